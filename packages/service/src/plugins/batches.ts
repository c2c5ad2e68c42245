import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../api-errors.js';
import type { BatchCommands } from '../commands/batch-commands.js';
import { batches } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import type { BatchReads } from '../read-models/batch-reads.js';

export interface BatchesPluginOptions {
  reads: BatchReads;
  commands: BatchCommands;
}

/** Batches: list, progress (with the enrollment report of an enroll batch), close, results as NDJSON. */
export const batchesPlugin: FastifyPluginAsync<BatchesPluginOptions> = async (app, options) => {
  const { reads, commands } = options;
  const notFound = (id: string) => new ApiError(404, 'NOT_FOUND', `no batch ${id}`);

  route(app, batches.list, async ({ query: { limit, cursor } }) => {
    const split = cursor?.indexOf('-') ?? -1;
    const after = cursor === undefined ? undefined : { createdAt: Number(cursor.slice(0, split)), id: cursor.slice(split + 1) };
    // One more than asked says whether another page follows.
    const page = await reads.list(limit + 1, after);
    const list = page.slice(0, limit);
    const last = list[list.length - 1];
    return { batches: list, nextCursor: page.length > limit && last ? `${last.createdAt}-${last.id}` : null };
  });

  route(app, batches.get, async ({ params }) => (await reads.get(params.id)) ?? Promise.reject(notFound(params.id)));

  route(app, batches.close, async ({ params }) => (await commands.close(params.id)) ?? Promise.reject(notFound(params.id)));

  route(app, batches.results, async ({ params, query }, _request, reply) => {
    const lines = await reads.resultLines(params.id, { threshold: query.threshold });
    if (!lines) throw notFound(params.id);
    return reply.type('application/x-ndjson').send(Readable.from(lines));
  });
};
