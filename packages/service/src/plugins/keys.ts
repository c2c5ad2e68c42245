import type { Logger } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../api-errors.js';
import { ApiKeys } from '../api-keys.js';
import { keys as operations } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import { listPage } from '../list-page.js';

export interface KeysPluginOptions {
  keys: ApiKeys;
  log: Logger;
}

/** API keys: create (the key is in that answer only), list, revoke. Every route needs the admin scope. */
export const keysPlugin: FastifyPluginAsync<KeysPluginOptions> = async (app, options) => {
  const { keys, log } = options;

  route(app, operations.create, async ({ body }, _request, reply) => {
    let created;
    try {
      created = await keys.create(ApiKeys.checkName(body.name), ApiKeys.parseScopes(body.scopes));
    } catch (err) {
      if (err instanceof RangeError) throw new ApiError(400, 'BAD_REQUEST', err.message);
      throw err;
    }
    log.info('api key created', { keyId: created.id, name: created.name, scopes: created.scopes.join(',') });
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  route(app, operations.list, async ({ query }) => {
    const { page, nextCursor } = listPage(await keys.list(), (k) => `${k.createdAt}|${k.id}`, query.limit, query.cursor);
    return { keys: page, nextCursor };
  });

  route(app, operations.revoke, async ({ params }) => {
    if (!(await keys.revoke(params.id))) throw new ApiError(404, 'NOT_FOUND', `no key ${params.id}`);
    log.info('api key revoked', { keyId: params.id });
    return { id: params.id, revoked: true as const };
  });
};
