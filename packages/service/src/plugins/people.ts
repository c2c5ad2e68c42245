import { isPersonName, type EnrollmentReport } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../api-errors.js';
import { enroll } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import type { Enrollments } from '../enrollments.js';
import { multipartParts } from '../multipart-parts.js';
import { answerUpload } from '../upload-answer.js';
import type { Uploads } from '../uploads.js';

export interface PeoplePluginOptions {
  uploads: Uploads;
  enrollments: Enrollments;
  maxFiles: number;
  maxBytes: number;
  /** Longest an enroll request waits for its enrollment before answering 202 with a status URL. @defaultValue 20000 */
  enrollWaitMs?: number;
}

/**
 * Enrollment over HTTP (POST /v1/people/:name/images; the people list is in the library plugin). An
 * enrollment that is not done within `enrollWaitMs` — or at once when a pipeline queue is
 * paused, or with `?wait=false` — is answered 202 with `Location: /v1/batches/<id>`; it goes on
 * in the background and that batch shows its report when done.
 */
export const peoplePlugin: FastifyPluginAsync<PeoplePluginOptions> = async (app, options) => {
  const { uploads, enrollments, maxFiles, maxBytes } = options;
  const waitMs = options.enrollWaitMs ?? 20_000;

  route(app, enroll, async ({ params: { name }, query }, request, reply) => {
    if (!isPersonName(name)) throw new ApiError(400, 'BAD_REQUEST', `"${name}" is not a valid name (letters, digits, space . _ ' -; at most 100)`);
    const parts = multipartParts(request, maxFiles, maxBytes);
    await uploads.checkRoom();
    const result = await uploads.receive(parts, { purpose: 'enroll', person: name });
    if (result.files.every((f) => f.status === 'rejected')) return answerUpload(reply, result);
    const statusUrl = `/v1/batches/${encodeURIComponent(result.batchId)}`;
    const accepted = () => reply.code(202).header('location', statusUrl).send({ ...result, statusUrl });
    const enrollment = enrollments.start(result.batchId);
    // Settled either way, so a rejection after we stopped waiting is never unhandled (Enrollments logs it).
    const settled = enrollment.then(
      (report): { report: EnrollmentReport } => ({ report }),
      (err: unknown) => ({ err: err as Error }),
    );
    if (!query.wait) return accepted();
    if (await enrollments.pipelinePaused()) return accepted();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([settled, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)))]);
    clearTimeout(timer);
    if (outcome === undefined) return accepted();
    if ('err' in outcome) throw new ApiError(504, 'TIMEOUT', `${outcome.err.message}; the enrollment goes on in the background (GET ${statusUrl})`);
    return { batchId: result.batchId, files: result.files, enrollment: outcome.report };
  });
};
