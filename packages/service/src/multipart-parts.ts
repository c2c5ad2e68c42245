import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-errors.js';
import type { UploadPart } from './uploads.js';

/**
 * The parts of a multipart upload, with limits: `maxFiles` files of at most `maxBytes` each
 * (a longer file is cut and marked `truncated`, then rejected as FILE_TOO_LARGE), a few short
 * fields per file. Throws 415 NOT_MULTIPART for any other content type.
 */
export function multipartParts(request: FastifyRequest, maxFiles: number, maxBytes: number): AsyncIterable<UploadPart> {
  if (!request.isMultipart()) throw new ApiError(415, 'NOT_MULTIPART', 'send multipart/form-data, one part per image');
  const limits = { fileSize: maxBytes, files: maxFiles, fields: maxFiles + 2, fieldSize: 4096, parts: 2 * maxFiles + 2 };
  // Parsing starts at the first part asked for, not here: a request refused before that (a queue
  // or the disk full) is answered with its body unread and unpiped, which the service reads away.
  return {
    [Symbol.asyncIterator]: () => (request.parts({ limits, throwFileSizeLimit: false } as Parameters<FastifyRequest['parts']>[0]) as AsyncIterable<UploadPart>)[Symbol.asyncIterator](),
  };
}
