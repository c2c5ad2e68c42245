import type { Logger } from '@facepipe/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ApiError } from '../api-errors.js';
import { webhooks as operations } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import { listPage, sortableNumber } from '../list-page.js';
import { webhookEvents, type Webhook, type WebhookStore } from '../webhooks/webhook-store.js';

export interface WebhooksPluginOptions {
  store: WebhookStore;
  log: Logger;
}

/** Who owns what a request registers: its API key, or the token (which sees every key's). */
const ownerOf = (request: FastifyRequest): string => (request.principal.kind === 'key' ? `key:${request.principal.id}` : 'token');
const mayManage = (request: FastifyRequest, hook: Webhook): boolean => ownerOf(request) === 'token' || hook.owner === ownerOf(request);
const withoutSecret = ({ secret: _secret, ...hook }: Webhook) => hook;

/** Webhooks per API key: register (the secret is in that answer only), list, delete. Deliveries: webhooks/webhook-worker.ts. */
export const webhooksPlugin: FastifyPluginAsync<WebhooksPluginOptions> = async (app, { store, log }) => {
  route(app, operations.create, async ({ body }, request, reply) => {
    const hook = await store.create({ url: body.url, events: body.events ? [...new Set(body.events)] : [...webhookEvents], owner: ownerOf(request) });
    log.info('webhook registered', { webhookId: hook.id, owner: hook.owner, events: hook.events.join(',') });
    return reply.code(201).header('cache-control', 'no-store').send(hook);
  });

  route(app, operations.list, async ({ query }, request) => {
    const owner = ownerOf(request);
    const hooks = (await store.list(owner === 'token' ? undefined : owner)).map(withoutSecret);
    const { page, nextCursor } = listPage(hooks, (h) => `${sortableNumber(h.createdAt)}|${h.id}`, query.limit, query.cursor);
    return { webhooks: page, nextCursor };
  });

  route(app, operations.remove, async ({ params }, request) => {
    const hook = await store.get(params.id);
    if (!hook || !mayManage(request, hook)) throw new ApiError(404, 'NOT_FOUND', `no webhook ${params.id} of this key's`);
    await store.remove(hook.id);
    log.info('webhook deleted', { webhookId: hook.id });
    return { id: hook.id, deleted: true as const };
  });
};
