import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig, stageNames, type StageName } from '@facepipe/core';
import { Producer, ScheduledReindexWorker } from '@facepipe/producer';
import { startService, type RunningService } from '@facepipe/service';
import { embeddedDatabaseDir } from '@facepipe/face-index';
import { LocalStack } from './local-stack.js';
import { localStageSettings } from './stage-settings.js';
import { waitForWorkers } from './wait.js';
import { WorkerProcesses } from './worker-processes.js';

export interface LocalDeploymentOptions {
  /** Where data and logs live (`redis/`, `s3/`, `logs/`). */
  dataDir: string;
  /** Settings to start from. @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /** Worker processes per stage. @defaultValue 1 each */
  workers?: Partial<Record<StageName, number>>;
  /** Keep Redis's data in an append-only file (`facepipe up`). @defaultValue false */
  persistentRedis?: boolean;
  /** Port of the HTTP service (0 = a free one). @defaultValue 0 */
  servicePort?: number;
  /**
   * Bearer token the service (dashboard, API) requires; the dashboard URL then carries it so a
   * browser opening it is signed in. @defaultValue none (loopback only, no sign-in)
   */
  token?: string;
  /** Log level of this process's producer and service (workers follow the environment). @defaultValue 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** How long the workers may take to start. @defaultValue 120000 */
  startTimeoutMs?: number;
}

/**
 * The folders a local deployment writes to, whose free space its service watches: the data dir,
 * the embedded S3 store, Redis's append-only file, the embedded database and the logs (one
 * reading per file system; a store mounted on a disk of its own gets its own).
 */
export function localDataDirs(dataDir: string): string[] {
  return [dataDir, ...['s3', 'redis', 'logs'].map((d) => resolve(dataDir, d)), embeddedDatabaseDir(dataDir)];
}

/**
 * A whole local deployment: the embedded services ({@link LocalStack}), the three pools as
 * worker processes, a producer and the HTTP service with its dashboard. `facepipe run` runs one
 * for the length of a job; `facepipe up` keeps one running in the background. The end-to-end
 * tests and benchmarks start the same thing.
 */
export class LocalDeployment {
  #stopping: Promise<void> | undefined;

  private constructor(
    readonly stack: LocalStack,
    readonly workers: WorkerProcesses,
    readonly producer: Producer,
    readonly service: RunningService,
    readonly schedules: ScheduledReindexWorker,
    readonly token: string | undefined,
    /** The folders whose free space admission and the dashboard watch (FACEPIPE_DATA_DIRS). */
    readonly dataDirs: string,
  ) {}

  static async start(options: LocalDeploymentOptions): Promise<LocalDeployment> {
    const dataDir = resolve(options.dataDir);
    const base = options.env ?? process.env;
    const stack = await LocalStack.start({ dataDir, env: base, persistentRedis: options.persistentRedis });
    // Every process of the deployment, and every client it points at it, watches the same data
    // dirs: a full one pauses admission wherever an ingest runs.
    const dataDirs = base.FACEPIPE_DATA_DIRS ?? localDataDirs(dataDir).join(',');
    const workers = new WorkerProcesses({ FACEPIPE_METRICS_HOST: base.FACEPIPE_METRICS_HOST ?? '127.0.0.1', ...stack.env, FACEPIPE_DATA_DIRS: dataDirs }, resolve(dataDir, 'logs'));
    let producer: Producer | undefined;
    try {
      const layout = localStageSettings(cpus().length, base);
      for (const stage of stageNames) workers.start(stage, options.workers?.[stage] ?? 1, layout[stage]);
      const logLevel = base.FACEPIPE_LOG_LEVEL ? undefined : (options.logLevel ?? 'warn');
      const config = loadConfig({ ...base, ...stack.env, FACEPIPE_DATA_DIRS: dataDirs, ...(options.token ? { FACEPIPE_API_TOKEN: options.token } : {}), ...(logLevel ? { FACEPIPE_LOG_LEVEL: logLevel } : {}) });
      producer = await Producer.connect(config, 'local');
      await waitForWorkers(producer, workers, { timeoutMs: options.startTimeoutMs });
      const service = await startService({ config, producer, host: '127.0.0.1', port: options.servicePort ?? 0 });
      const schedules = new ScheduledReindexWorker(producer);
      await schedules.start();
      return new LocalDeployment(stack, workers, producer, service, schedules, options.token, dataDirs);
    } catch (err) {
      await workers.stop();
      await producer?.close();
      await stack.stop();
      throw err;
    }
  }

  /** The settings that point other facepipe processes at this deployment. */
  get env(): Record<string, string> {
    return { ...this.stack.env, FACEPIPE_DATA_DIRS: this.dataDirs };
  }

  /** The dashboard URL; with a token it signs the browser in (like Jupyter's token link). */
  get dashboardUrl(): string {
    return this.token ? `${this.service.url}/dashboard/login?token=${encodeURIComponent(this.token)}` : `${this.service.url}/dashboard`;
  }

  /** Child processes: the workers and the services run as processes (redis-server). */
  get childPids(): number[] {
    return [...this.workers.processes.map((p) => p.child.pid ?? 0).filter((pid) => pid > 0), ...this.stack.childPids];
  }

  get logDir(): string {
    return this.workers.logDir;
  }

  /** Stops the service, then the workers (gracefully: active jobs finish), then the services. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.schedules.close().catch(() => undefined);
      await this.service.close().catch(() => undefined);
      await this.workers.stop();
      await this.producer.close().catch(() => undefined);
      await this.stack.stop();
    })();
    return this.#stopping;
  }
}
