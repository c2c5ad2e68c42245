import type { FastifyReply } from 'fastify';
import { uploadStatus } from './api-errors.js';
import type { UploadResult } from './uploads.js';

/**
 * Answers an upload: 202 when every file was accepted, 207 for a mix (both with `Location:` the
 * batch), the first rejection's status when none was — then with the common `error` object
 * next to the per-file details.
 */
export function answerUpload(reply: FastifyReply, result: UploadResult): FastifyReply {
  const status = uploadStatus(result.files.map((f) => f.error));
  // Accepted work: where to follow it.
  if (status < 400) return reply.code(status).header('location', `/v1/batches/${encodeURIComponent(result.batchId)}`).send(result);
  const first = result.files.find((f) => f.error)!.error!;
  const message = result.files.length === 1 ? first.message : `all ${result.files.length} files were rejected (first: ${first.code}); see files[] for each`;
  return reply.code(status).send({ error: { code: first.code, message }, ...result });
}
