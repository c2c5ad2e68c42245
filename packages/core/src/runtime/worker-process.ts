import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ConfigError, loadConfig, type FacepipeConfig } from '../config/index.js';
import type { StageWorker } from '../queue/index.js';
import type { JobName, QueueName } from '../queue/queue-names.js';
import { startObservability } from './observability.js';
import { ServiceContext } from './service-context.js';
import { installShutdown, watchParent } from './shutdown.js';
import { BatchSweeper } from './batch-sweeper.js';

/** Event-loop delay (ms) of this process since start, and the margin lock renewals have. */
export function eventLoopReport(histogram: IntervalHistogram, lockDurationMs: number): Record<string, number> {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    loopDelayMeanMs: ms(histogram.mean),
    loopDelayP99Ms: ms(histogram.percentile(99)),
    loopDelayMaxMs: ms(histogram.max),
    lockRenewalMarginMs: lockDurationMs / 2,
  };
}

/**
 * Runs the sweeper every FACEPIPE_SWEEP_INTERVAL_S in this process (a Redis lock keeps passes
 * one at a time across processes). Returns its stop.
 */
export function startSweeper(ctx: ServiceContext): { stop(): void; sweeper: BatchSweeper } {
  const sweeper = new BatchSweeper({
    redis: ctx.redis,
    prefix: ctx.config.redis.prefix,
    store: ctx.store,
    tracker: ctx.tracker,
    queues: ctx.queues,
    outcomes: ctx.outcomes,
    log: ctx.log,
    idleMs: ctx.config.sweep.idleMs,
  });
  if (ctx.config.sweep.intervalMs <= 0) return { stop: () => undefined, sweeper };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweeper
      .sweep()
      .catch((err: unknown) => ctx.log.warn('sweep failed; next pass retries', { err: (err as Error).message }))
      .finally(() => {
        running = false;
      });
  }, ctx.config.sweep.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), sweeper };
}

/** What a stage process runs: its BullMQ workers and anything else to close at the end. */
export interface RunningStage {
  workers: StageWorker<JobName>[];
  /** Closes models, thread pools, HTTP servers… after the workers stopped. */
  close(): Promise<void>;
}

/** How a worker process resolves its settings at start. */
export interface WorkerProcessOptions {
  /** The environment settings come from. @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /**
   * The versions this process's settings and models produce (`configuredVersions` of
   * @facepipe/vision), resolved once here so every job is checked against the same value.
   * @defaultValue undefined (jobs' versions are not checked)
   */
  versions?: (config: FacepipeConfig) => Promise<{ pipeline: string }>;
}

/**
 * The shared body of every worker's `main.ts`: resolve settings once (fail fast with a message a
 * person can act on), check Redis and S3 answer, start, and wire two-stage shutdown.
 */
export async function runWorkerProcess(
  service: string,
  start: (ctx: ServiceContext) => Promise<RunningStage>,
  options: WorkerProcessOptions = {},
): Promise<void> {
  let config: FacepipeConfig;
  let pipelineVersion: string | undefined;
  try {
    config = loadConfig(options.env ?? process.env);
    pipelineVersion = options.versions ? (await options.versions(config)).pipeline : undefined;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`${service}: cannot read the models' manifest (${(err as Error).message}); run \`npm ci\` (or \`npm run build\`) to convert the models\n`);
      process.exit(2);
    }
    throw err;
  }
  const ctx = new ServiceContext(config, service, 'worker', pipelineVersion);
  // From here on: before the stage starts, SIGTERM's default ends the process; after, the graceful path.
  watchParent(ctx.log, options.env ?? process.env);
  if (pipelineVersion) ctx.log.info('settings resolved', { pipelineVersion });
  // /healthz answers from here on; /readyz once the stage has started (models loaded).
  let started = false;
  const health = await startObservability(ctx, () => started).catch(async (err: Error) => {
    process.stderr.write(`${service}: ${err.message}\n`);
    await ctx.close();
    process.exit(2);
  });
  const ready = await ctx.checkReady();
  if (!ready.redis || !ready.s3) {
    ctx.log.error('cannot start: dependencies unreachable', { problems: ready.errors });
    process.stderr.write(
      `${service}: cannot start:\n${ready.errors.map((e) => `  - ${e}`).join('\n')}\n` +
        'Check REDIS_URL and S3_ENDPOINT/S3_BUCKET/credentials (docs/configuration.md).\n',
    );
    await Promise.allSettled([ctx.close(), health?.close()]);
    process.exit(3);
  }
  const bucket = await ctx.store.ensureBucket();
  if (bucket.intermediateExpiry === 'unsupported') {
    ctx.log.warn('intermediates will not expire on their own: only the stage that consumes them deletes them', { reason: bucket.detail, setting: 'FACEPIPE_INTERMEDIATE_EXPIRY_DAYS=0 turns the rule off' });
  }
  const running = await start(ctx);
  ctx.metrics.watchQueues(running.workers.map((w) => ctx.queues.byName(w.worker.name as QueueName)));
  started = true;
  const sweeper = startSweeper(ctx);
  // Event-loop delay next to the lock-renewal margin: a lock lapses (and a live job is taken
  // from its worker) only if the loop stalls longer than half the lock duration.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const stop = async (force: boolean) => {
    sweeper.stop();
    loop.disable();
    ctx.log.info('event loop delay', eventLoopReport(loop, ctx.config.queues.lockDurationMs));
    await Promise.allSettled(running.workers.map((w) => w.close(force)));
    await Promise.allSettled([running.close(), ctx.close(), health?.close()]);
  };
  installShutdown({ log: ctx.log, graceful: () => stop(false), force: () => stop(true) });
  ctx.log.info('started', { queues: running.workers.map((w) => w.worker.name) });
  await Promise.all(running.workers.map((w) => w.run()));
}
