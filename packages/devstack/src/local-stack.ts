import { resolve } from 'node:path';
import { loadConfig, type FacepipeConfig } from '@facepipe/core';
import { startEmbeddedS3, type EmbeddedS3 } from './embedded-s3.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';

export interface LocalStackOptions {
  /** Where the embedded stores live (`redis/`, `s3/` below it). */
  dataDir: string;
  /** The environment to read settings from. @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /**
   * Keep Redis's data in an append-only file under `<dataDir>/redis` (a long-running local
   * deployment: restarts keep queues and batches). @defaultValue false
   */
  persistentRedis?: boolean;
}

/**
 * The embedded services of a local deployment: `REDIS_URL` if set, else a private redis-server
 * on a free loopback port; `S3_ENDPOINT` if set, else the embedded S3-protocol server over HTTP
 * storing under `<dataDir>/s3` (kept between runs, so a re-run reuses earlier results).
 */
export class LocalStack {
  /** The settings that point a facepipe process at these services (only what was started here). */
  readonly env: Record<string, string>;
  readonly config: FacepipeConfig;
  readonly dataDir: string;
  readonly #redis: LocalRedis | undefined;
  readonly #s3: EmbeddedS3 | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(init: { env: Record<string, string>; config: FacepipeConfig; dataDir: string; redis?: LocalRedis; s3?: EmbeddedS3 }) {
    this.env = init.env;
    this.config = init.config;
    this.dataDir = init.dataDir;
    this.#redis = init.redis;
    this.#s3 = init.s3;
  }

  get describe(): string {
    return [
      this.#redis ? `private redis-server at ${this.config.redis.url}` : `Redis at ${this.config.redis.url}`,
      this.#s3 ? `embedded S3 at ${this.config.s3.endpoint} (files under ${resolve(this.dataDir, 's3')})` : `S3 at ${this.config.s3.endpoint ?? 'AWS'}`,
    ].join(', ');
  }

  /** Process ids of services this stack runs as child processes (redis-server). */
  get childPids(): number[] {
    return this.#redis ? [this.#redis.pid] : [];
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const base = options.env ?? process.env;
    loadConfig(base); // fail fast on bad settings before starting anything
    const env: Record<string, string> = {};
    let redis: LocalRedis | undefined;
    let s3: EmbeddedS3 | undefined;
    try {
      if (!base.REDIS_URL) {
        redis = await startLocalRedis({ directory: resolve(options.dataDir, 'redis'), appendOnly: options.persistentRedis ?? false });
        env.REDIS_URL = redis.url;
      }
      if (!base.S3_ENDPOINT) {
        s3 = await startEmbeddedS3({ directory: resolve(options.dataDir, 's3'), port: 0 });
        Object.assign(env, s3.env);
      }
    } catch (err) {
      await Promise.allSettled([redis?.stop(), s3?.close()]);
      throw err;
    }
    const merged = { ...base, ...env };
    return new LocalStack({ env, config: loadConfig(merged), dataDir: options.dataDir, redis, s3 });
  }

  /** Stops what this stack started; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= Promise.allSettled([this.#s3?.close(), this.#redis?.stop()]).then(() => undefined);
    return this.#stopping;
  }
}
