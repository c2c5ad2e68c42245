import type { Logger } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../api-errors.js';
import { ApiKeys } from '../api-keys.js';

export interface KeysPluginOptions {
  keys: ApiKeys;
  log: Logger;
}

/** API keys: create (the key is in that answer only), list, revoke. Every route needs the admin scope. */
export const keysPlugin: FastifyPluginAsync<KeysPluginOptions> = async (app, options) => {
  const { keys, log } = options;
  const admin = { config: { scope: 'admin' as const } };

  app.post<{ Body: unknown }>('/v1/keys', admin, async (request, reply) => {
    const body = request.body as { name?: unknown; scopes?: unknown } | null | undefined;
    if (typeof body !== 'object' || body === null) throw new ApiError(400, 'BAD_REQUEST', 'send JSON: {"name": "...", "scopes": ["upload", "read", ...]}');
    if (typeof body.name !== 'string') throw new ApiError(400, 'BAD_REQUEST', 'name: a string of 1-100 printable ASCII characters');
    const scopes = body.scopes;
    if (!(typeof scopes === 'string' || (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')))) {
      throw new ApiError(400, 'BAD_REQUEST', 'scopes: a list of upload, read, people, admin');
    }
    let created;
    try {
      created = await keys.create(ApiKeys.checkName(body.name), ApiKeys.parseScopes(scopes));
    } catch (err) {
      if (err instanceof RangeError) throw new ApiError(400, 'BAD_REQUEST', err.message);
      throw err;
    }
    log.info('api key created', { keyId: created.id, name: created.name, scopes: created.scopes.join(',') });
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  app.get('/v1/keys', admin, async () => ({ keys: await keys.list() }));

  app.delete<{ Params: { id: string } }>('/v1/keys/:id', admin, async (request) => {
    if (!(await keys.revoke(request.params.id))) throw new ApiError(404, 'NOT_FOUND', `no key ${request.params.id}`);
    log.info('api key revoked', { keyId: request.params.id });
    return { id: request.params.id, revoked: true };
  });
};
