import { createRedisConnection, closeRedis, JobName, QueueName, StageWorker } from '@facepipe/core';
import { FaceIndex } from '@facepipe/face-index';
import type { Producer } from '../producer.js';

/**
 * Runs the jobs that re-index schedules (`facepipe schedules`) make: each queues a re-index
 * batch, like `facepipe reindex <kind>` by hand. One at a time across every process that runs
 * it (`facepipe serve`), so two ticks never scan the library at once.
 */
export class ScheduledReindexWorker {
  readonly #worker: StageWorker<typeof JobName.ScheduledReindex>;
  readonly #connection;
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(readonly producer: Producer) {
    const { config, log } = producer.ctx;
    // Workers block on Redis: a connection of their own that waits out restarts.
    this.#connection = createRedisConnection(config.redis.url, 'worker');
    this.#connection.on('error', (err) => log.warn('redis connection error', { component: 'schedules', err: err.message }));
    this.#worker = new StageWorker({
      queue: QueueName.Maintenance,
      jobName: JobName.ScheduledReindex,
      connection: this.#connection,
      prefix: config.redis.prefix,
      log,
      concurrency: 1,
      handler: async (data, ctx) => {
        // With a face index, the work is selected from it (a page at a time), not by listing S3.
        const index = config.database.url ? await FaceIndex.connect({ url: config.database.url }) : undefined;
        if (data.kind === 'retention') {
          const days = config.database.retentionStrangerDays;
          if (days === undefined || !index) {
            await index?.close();
            ctx.log.warn('retention schedule ran with nothing to apply: set FACEPIPE_RETENTION_STRANGER_DAYS (and DATABASE_URL)', { scheduler: ctx.job.repeatJobKey });
            return { erased: 0 };
          }
          const outcome = await producer.eraser(index).expireStrangers(days, `schedule:${ctx.job.repeatJobKey ?? 'retention'}`).finally(() => index.close());
          ctx.log.info('retention applied', { days, erased: outcome.imagesErased, erasure: outcome.record.id });
          return { erased: outcome.imagesErased, erasure: outcome.record.id };
        }
        const run = await producer.reindexer(index).run(data.kind).finally(() => index?.close());
        ctx.log.info('scheduled re-index queued', { kind: data.kind, scheduler: ctx.job.repeatJobKey, ...run });
        return run;
      },
    });
  }

  /** Starts taking scheduled jobs (returns at once; the worker runs until close()). */
  async start(): Promise<void> {
    await this.producer.ctx.queues.maintenance.setGlobalConcurrency(1);
    this.#running ??= this.#worker.run();
  }

  /** Stops after the running re-index (if any) has queued its batch. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker.close();
      await this.#running?.catch(() => undefined);
      await closeRedis(this.#connection);
    })();
    return this.#closing;
  }
}
