import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedisConnection, JobName, QueueName, redisKeys, webhookDeliveryJobSchema, type Logger, type WebhookDeliveryJobData } from '@facepipe/core';
import type { Producer } from '@facepipe/producer';
import { batchProgress } from '../progress.js';
import { signatureHeader, signWebhook } from './webhook-signature.js';
import { WebhookStore, type WebhookEvent } from './webhook-store.js';

export interface WebhookWorkerOptions {
  /** Tries per delivery, the first included. @defaultValue 8 */
  attempts?: number;
  /** The first retry's wait; each next one doubles (BullMQ's exponential backoff). @defaultValue 2000 */
  backoffMs?: number;
  /** How long a receiver has to answer. @defaultValue 10000 */
  timeoutMs?: number;
  /** Deliveries at once. @defaultValue 8 */
  concurrency?: number;
}

const group = 'webhooks';

/**
 * Webhook deliveries, in the service process (`facepipe serve`). Two parts:
 * - the dispatcher reads the pipeline's events (`<prefix>:events`, a Redis stream the batch
 *   scripts append to while a webhook exists) in a consumer group, so each event is taken by one
 *   service process, and queues one delivery job per matching webhook (job id: event + webhook,
 *   so an event read twice after a crash is queued once), then acknowledges the event;
 * - a BullMQ worker on the `webhooks` queue POSTs each delivery, signed, and fails it on anything
 *   but a 2xx: BullMQ retries it with exponential backoff. Failed deliveries stay in the queue,
 *   where the dashboard shows them by code (WEBHOOK_FAILED) and retries them.
 */
export class WebhookWorker {
  readonly store: WebhookStore;
  readonly #producer: Producer;
  readonly #log: Logger;
  readonly #o: Required<WebhookWorkerOptions>;
  readonly #streamKey: string;
  readonly #consumer = `${hostname()}:${process.pid}`;
  readonly #reader: Redis;
  readonly #workerConnection: Redis;
  readonly #worker: Worker;
  #dispatching: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(producer: Producer, options: WebhookWorkerOptions = {}) {
    const { config, log, redis } = producer.ctx;
    this.#producer = producer;
    this.#log = log.child({ component: 'webhooks' });
    this.#o = { attempts: options.attempts ?? 8, backoffMs: options.backoffMs ?? 2000, timeoutMs: options.timeoutMs ?? 10_000, concurrency: options.concurrency ?? 8 };
    this.store = new WebhookStore(redis, config.redis.prefix);
    this.#streamKey = redisKeys(config.redis.prefix).events;
    // Blocking reads and the BullMQ worker each hold a connection of their own.
    this.#reader = createRedisConnection(config.redis.url, 'worker');
    this.#workerConnection = createRedisConnection(config.redis.url, 'worker');
    for (const c of [this.#reader, this.#workerConnection]) c.on('error', (err) => this.#log.warn('redis connection error', { err: err.message }));
    this.#worker = new Worker(QueueName.Webhooks, (job) => this.#deliver(job), {
      connection: this.#workerConnection,
      prefix: config.redis.prefix,
      concurrency: this.#o.concurrency,
      name: `${QueueName.Webhooks}@${this.#consumer}`,
      autorun: false,
    });
    this.#worker.on('error', (err) => this.#log.error('worker error', { queue: QueueName.Webhooks, err }));
    this.#worker.on('failed', (job, err) => this.#log.warn('webhook delivery failed', { queue: QueueName.Webhooks, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }));
  }

  /** Starts dispatching events and delivering (returns at once). */
  async start(): Promise<void> {
    try {
      await this.#reader.xgroup('CREATE', this.#streamKey, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    this.#dispatching ??= this.#dispatchLoop();
    void this.#worker.run();
  }

  async #dispatchLoop(): Promise<void> {
    // First the events this consumer took but did not acknowledge (a crash), then new ones.
    let pendingFirst = true;
    while (!this.#closing) {
      try {
        const read = (await this.#reader.xreadgroup('GROUP', group, this.#consumer, 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', this.#streamKey, pendingFirst ? '0' : '>')) as [string, [string, string[]][]][] | null;
        const entries = read?.[0]?.[1] ?? [];
        if (pendingFirst && entries.length === 0) pendingFirst = false;
        for (const [id, fields] of entries) {
          await this.#dispatch(id, Object.fromEntries(pairs(fields)));
          await this.#producer.ctx.redis.xack(this.#streamKey, group, id);
        }
      } catch (err) {
        if (this.#closing) return;
        this.#log.warn('webhook events not read; trying again', { err: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** One event: its payload, and a delivery job for each webhook that wants it. */
  async #dispatch(eventId: string, fields: Record<string, string>): Promise<void> {
    const type = fields.type as WebhookEvent;
    const hooks = (await this.store.list()).filter((h) => h.events.includes(type));
    if (hooks.length === 0) return;
    const data = await this.#eventData(type, fields);
    if (!data) return;
    const event = { id: eventId, type, createdAt: Number(eventId.split('-')[0]), data };
    await this.#producer.ctx.queues.webhooks.addBulk(
      hooks.map((h) => ({
        name: JobName.WebhookDelivery,
        data: { webhookId: h.id, event } satisfies WebhookDeliveryJobData,
        opts: {
          jobId: `${eventId}_${h.id}`,
          attempts: this.#o.attempts,
          backoff: { type: 'exponential', delay: this.#o.backoffMs },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 10_000 },
        },
      })),
    );
  }

  async #eventData(type: WebhookEvent, fields: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    if (type === 'batch.finished') {
      const batch = await this.#producer.ctx.tracker.getBatch(fields.batchId ?? '');
      return batch ? { batch: batchProgress(batch) } : undefined;
    }
    const waiters = (fields.waiters ?? '').split(',').filter((w) => w !== '');
    return {
      imageId: fields.imageId,
      error: { code: fields.code, queue: fields.queue || null },
      batches: waiters.map((w) => ({ batchId: w.slice(0, w.lastIndexOf(':')), index: Number(w.slice(w.lastIndexOf(':') + 1)) })),
    };
  }

  /** One try of one delivery: POST the event, signed; anything but a 2xx fails it (and BullMQ retries). */
  async #deliver(job: Job): Promise<string> {
    const { webhookId, event } = webhookDeliveryJobSchema.parse(job.data);
    const hook = await this.store.get(webhookId);
    if (!hook) return 'webhook deleted: not sent';
    const body = JSON.stringify(event);
    let status: number;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'facepipe-webhooks/1',
          'x-facepipe-event': event.type,
          'x-facepipe-delivery': job.id ?? '',
          'x-facepipe-attempt': String(job.attemptsMade + 1),
          [signatureHeader]: signWebhook(hook.secret, body),
        },
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      throw new Error(`[WEBHOOK_FAILED] ${hook.url} could not be reached: ${(err as Error).message}`);
    }
    if (status < 200 || status >= 300) throw new Error(`[WEBHOOK_FAILED] ${hook.url} answered ${status}`);
    this.#log.info('webhook delivered', { queue: QueueName.Webhooks, jobId: job.id, status });
    return `delivered: ${status}`;
  }

  /** Stops reading events and lets running deliveries finish. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker.close();
      this.#reader.disconnect();
      await this.#dispatching?.catch(() => undefined);
      await closeRedis(this.#workerConnection);
    })();
    return this.#closing;
  }
}

function* pairs(fields: string[]): Iterable<[string, string]> {
  for (let i = 0; i + 1 < fields.length; i += 2) yield [fields[i]!, fields[i + 1]!];
}
