import { resolve } from 'node:path';
import { loadConfig, redactUrl, type FacepipeConfig } from '@facepipe/core';
import { EmbeddedDatabase, embeddedDatabaseDir } from '@facepipe/face-index';
import { deploymentCredentials } from './credentials.js';
import { secureDataDir } from './data-dir.js';
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
 * storing under `<dataDir>/s3` (kept between runs, so a re-run reuses earlier results);
 * `DATABASE_URL` if set, else the embedded face index database (PGlite + pgvector served over the
 * PostgreSQL protocol on a Unix socket) storing under `<dataDir>/db` (the library: people, clusters).
 *
 * Only the owner can use them: the data dir is made (or must already be) mode 0700, with umask
 * 077 for this process and the ones it starts ({@link secureDataDir}); Redis requires the
 * password and the S3 server SigV4 signatures with the secret kept in `<dataDir>/credentials.json`
 * (0600, made on the first start); the database socket lies inside the data dir.
 */
export class LocalStack {
  /** The settings that point a facepipe process at these services (only what was started here). */
  readonly env: Record<string, string>;
  readonly config: FacepipeConfig;
  readonly dataDir: string;
  readonly #redis: LocalRedis | undefined;
  readonly #s3: EmbeddedS3 | undefined;
  readonly #database: EmbeddedDatabase | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(init: { env: Record<string, string>; config: FacepipeConfig; dataDir: string; redis?: LocalRedis; s3?: EmbeddedS3; database?: EmbeddedDatabase }) {
    this.env = init.env;
    this.config = init.config;
    this.dataDir = init.dataDir;
    this.#redis = init.redis;
    this.#s3 = init.s3;
    this.#database = init.database;
  }

  get describe(): string {
    return [
      this.#redis ? `private redis-server at ${redactUrl(this.config.redis.url)} (password in ${resolve(this.dataDir, 'credentials.json')})` : `Redis at ${redactUrl(this.config.redis.url)}`,
      this.#s3 ? `embedded S3 at ${this.config.s3.endpoint} (files under ${resolve(this.dataDir, 's3')})` : `S3 at ${this.config.s3.endpoint ?? 'AWS'}`,
      this.#database ? `embedded face index database (files under ${this.#database.directory})` : 'face index at DATABASE_URL',
    ].join(', ');
  }

  /** Process ids of services this stack runs as child processes (redis-server). */
  get childPids(): number[] {
    return this.#redis ? [this.#redis.pid] : [];
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const base = options.env ?? process.env;
    loadConfig(base); // fail fast on bad settings before starting anything
    secureDataDir(options.dataDir);
    const credentials = deploymentCredentials(options.dataDir);
    const env: Record<string, string> = {};
    let redis: LocalRedis | undefined;
    let s3: EmbeddedS3 | undefined;
    let database: EmbeddedDatabase | undefined;
    try {
      if (!base.REDIS_URL) {
        redis = await startLocalRedis({ directory: resolve(options.dataDir, 'redis'), appendOnly: options.persistentRedis ?? false, password: credentials.redisPassword });
        env.REDIS_URL = redis.url;
      }
      if (!base.S3_ENDPOINT) {
        s3 = await startEmbeddedS3({ directory: resolve(options.dataDir, 's3'), port: 0, accessKeyId: credentials.s3AccessKeyId, secretAccessKey: credentials.s3SecretAccessKey });
        Object.assign(env, s3.env);
      }
      if (!base.DATABASE_URL) {
        database = await EmbeddedDatabase.start({ directory: embeddedDatabaseDir(options.dataDir) });
        Object.assign(env, database.env);
      }
    } catch (err) {
      await Promise.allSettled([redis?.stop(), s3?.close(), database?.close()]);
      throw err;
    }
    const merged = { ...base, ...env };
    return new LocalStack({ env, config: loadConfig(merged), dataDir: options.dataDir, redis, s3, database });
  }

  /** Stops what this stack started; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= Promise.allSettled([this.#s3?.close(), this.#redis?.stop(), this.#database?.close()]).then(() => undefined);
    return this.#stopping;
  }
}
