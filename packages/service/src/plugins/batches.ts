import { Readable } from 'node:stream';
import { objectKeys, type EnrollmentReport, type Logger } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import type { Producer } from '@facepipe/producer';
import { batchResults, toResultLine } from '@facepipe/producer';
import { ApiError } from '../api-errors.js';
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

  app.get<{ Querystring: { limit?: string } }>('/v1/batches', { config: { scope: 'read' } }, async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 50) || 50, 1), 500);
    const now = Date.now();
    return { batches: (await producer.ctx.tracker.listBatches(limit)).map((b) => batchProgress(b, now)) };
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id', { config: { scope: 'read' } }, async (request) => {
    const batch = await producer.getBatch(request.params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
    const enrollment = batch.purpose === 'enroll' ? await producer.ctx.store.getJson<EnrollmentReport>(objectKeys.enrollReport(batch.id)) : undefined;
    return { ...batchProgress(batch), ...(enrollment ? { enrollment } : {}) };
  });

  app.post<{ Params: { id: string } }>('/v1/batches/:id/close', { config: { scope: 'upload' } }, async (request) => {
    const total = await producer.ctx.tracker.closeBatch(request.params.id);
    if (total === undefined) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
    log.info('batch closed', { batchId: request.params.id, total });
    return batchProgress((await producer.getBatch(request.params.id))!);
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id/results', { config: { scope: 'read' } }, async (request, reply) => {
    const batch = await producer.getBatch(request.params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
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
