import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '@facepipe/core';

export const webhookEvents = ['batch.finished', 'image.failed'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/** A registered webhook. The secret signs its deliveries; it is shown once, when created. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  secret: string;
  /** The API key that registered it (`token`: FACEPIPE_API_TOKEN or an open service). */
  owner: string;
  createdAt: number;
}

/**
 * Webhooks in Redis: one hash, `<prefix>:webhooks` (id → JSON). Its existence is what turns on
 * the batch events the pipeline's scripts append for webhooks (see lua-scripts.ts), so the last
 * webhook deleted turns them off again.
 */
export class WebhookStore {
  readonly key: string;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.key = redisKeys(prefix).webhooks;
  }

  async create(input: { url: string; events: WebhookEvent[]; owner: string }): Promise<Webhook> {
    const hook: Webhook = { id: `wh_${randomBytes(8).toString('hex')}`, url: input.url, events: input.events, secret: `whsec_${randomBytes(24).toString('hex')}`, owner: input.owner, createdAt: Date.now() };
    await this.redis.hset(this.key, hook.id, JSON.stringify(hook));
    return hook;
  }

  async get(id: string): Promise<Webhook | undefined> {
    const raw = await this.redis.hget(this.key, id);
    return raw === null ? undefined : (JSON.parse(raw) as Webhook);
  }

  /** Every webhook, oldest first; only `owner`'s when given. */
  async list(owner?: string): Promise<Webhook[]> {
    const all = Object.values(await this.redis.hgetall(this.key)).map((raw) => JSON.parse(raw) as Webhook);
    return all.filter((h) => owner === undefined || h.owner === owner).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, id)) === 1;
  }
}
