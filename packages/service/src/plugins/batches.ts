import { Readable } from 'node:stream';
import { objectKeys, type EnrollmentReport, type Logger } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import type { Producer } from '@facepipe/producer';
import { batchResults, toResultLine } from '@facepipe/producer';
import { ApiError } from '../api-errors.js';
import { batches } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import type { LibraryAccess } from '../library-access.js';
import { batchProgress } from '../progress.js';

export interface BatchesPluginOptions {
  producer: Producer;
  log: Logger;
  /** The face index, when DATABASE_URL names one: result lines then take names and clusters from it. */
  access: LibraryAccess;
}

/** Batches: list, progress (with the enrollment report of an enroll batch), close, results as NDJSON. */
export const batchesPlugin: FastifyPluginAsync<BatchesPluginOptions> = async (app, options) => {
  const { producer, log, access } = options;

  route(app, batches.list, async ({ query }) => {
    const now = Date.now();
    return { batches: (await producer.ctx.tracker.listBatches(query.limit)).map((b) => batchProgress(b, now)) };
  });

  route(app, batches.get, async ({ params }) => {
    const batch = await producer.getBatch(params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${params.id}`);
    const enrollment = batch.purpose === 'enroll' ? await producer.ctx.store.getJson<EnrollmentReport>(objectKeys.enrollReport(batch.id)) : undefined;
    return { ...batchProgress(batch), ...(enrollment ? { enrollment } : {}) };
  });

  route(app, batches.close, async ({ params }) => {
    const total = await producer.ctx.tracker.closeBatch(params.id);
    if (total === undefined) throw new ApiError(404, 'NOT_FOUND', `no batch ${params.id}`);
    log.info('batch closed', { batchId: params.id, total });
    return batchProgress((await producer.getBatch(params.id))!);
  });

  route(app, batches.results, async ({ params }, _request, reply) => {
    const batch = await producer.getBatch(params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${params.id}`);
    // With a face index, names and clusters are the index's: the result documents may predate
    // a cluster being named or a person renamed. Opened before the first line, so a database
    // that does not answer is a 503, not a cut-off stream.
    const index = access.configured ? (await access.library()).index : undefined;
    const lines = async function* () {
      for await (const { entry, result, faces } of batchResults(producer.ctx.store, batch.id, 16, index)) yield `${JSON.stringify(toResultLine(entry, result, faces))}\n`;
    };
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  });
};
