import { type z } from 'zod';
import { attemptsForWindow, defaultRetryPolicy, type RetryPolicy } from '../queue/retry-policy.js';
import { parseDetectPasses, type DetectPasses } from './detect-passes.js';
import { parseNotAFaceChecks, type NotAFaceChecks } from './not-a-face-checks.js';
import { envSchema, type Env } from './env-schema.js';
import { parseWatchedDirs, type WatchedDir } from '../observability/disk-space.js';

/** Settings grouped by concern, resolved once at start. */
export interface FacepipeConfig {
  redis: { url: string; prefix: string };
  s3: {
    endpoint?: string;
    bucket: string;
    region: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
    requestClient: 'light' | 'sdk';
    /** FACEPIPE_INTERMEDIATE_EXPIRY_DAYS: unconsumed intermediates expire after this many days (0: never). */
    intermediateExpiryDays: number;
  };
  /** The face index (PostgreSQL + pgvector); `url` unset = none. */
  database: { url?: string; clusterMaxDistance: number; clusterMinFaces: number; clusterMaxLinkage: number; retentionStrangerDays?: number };
  detect: { concurrency: number; detector: 'ssd' | 'tiny'; minScore: number; minFaceSize: number; maxPixels: number; maxBytes: number; passes: DetectPasses; notAFace: NotAFaceChecks };
  embed: { concurrency: number; batchSize: number; batchWaitMs: number; flip: boolean };
  classify: { concurrency: number; batchSize: number; batchWaitMs: number; tolerance: number; classifier: 'nearest' | 'svm'; galleryRefreshMs: number };
  inference: { executionProvider: 'cpu' | 'cuda' | 'webgpu'; threads: number; intraOpThreads: number; intraOpSpinning: boolean };
  queues: {
    /** The detect queue's bound (FACEPIPE_MAX_QUEUED); the same as `bounds.detect`. */
    maxQueued: number;
    /** Waiting jobs per stage past which admission holds back (whole-pipeline backpressure). */
    bounds: { detect: number; embed: number; classify: number };
    keepCompleted: number;
    keepFailed: number;
    /** Attempts per job: FACEPIPE_JOB_ATTEMPTS, or as many as the retry window needs. */
    attempts: number;
    retry: RetryPolicy;
    rememberDoneSeconds: number;
    /** FACEPIPE_REMEMBER_DONE_MAX: at most this many finished images remembered (0: no limit). */
    rememberDoneMax: number;
    rememberFailedSeconds: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
  };
  /** The periodic repair pass of stage processes (0 = off). */
  sweep: { intervalMs: number; idleMs: number };
  metricsPort: number;
  metricsHost: string;
  /** The dashboard's banners: when a batch counts as stalled, which failure share is too high. */
  dashboard: { stallMs: number; failureRate: number };
  /** The data dirs whose free space is watched, and the levels of "low" and "full". */
  disk: { dirs: WatchedDir[]; warnFreeBytes: number; fullFreeBytes: number };
  /** `facepipe serve`: where it listens, its bearer token, and upload limits. */
  http: {
    host: string;
    port: number;
    /** Unset = no auth (the service then refuses non-loopback addresses). */
    token?: string;
    /** Effective per-file limit: FACEPIPE_UPLOAD_MAX_BYTES, at most FACEPIPE_MAX_BYTES. */
    uploadMaxBytes: number;
    uploadMaxFiles: number;
    uploadConcurrency: number;
    /** Failed authentications per client address and window before it is refused (429). */
    authMaxFailures: number;
    authWindowMs: number;
    /** Client addresses come from X-Forwarded-For. */
    trustProxy: boolean;
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

/** Thrown when the environment is invalid; its message lists every bad variable and what to do. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`facepipe: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee docs/configuration.md for every setting.`);
    this.name = 'ConfigError';
  }
}

/** Variables whose values never appear in messages or logs. */
const secretVariable = /TOKEN|SECRET|PASSWORD|DATABASE_URL/;

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? '?');
  const value = env[name];
  const shown = value === undefined ? 'unset' : secretVariable.test(name) ? `${value.length} characters, not shown` : `"${value}"`;
  return `${name} (${shown}): ${issue.message}`;
}

/**
 * Reads and validates the environment. Empty strings count as unset, so `FOO=` in a compose
 * file falls back to the default rather than failing.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): FacepipeConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, env)));
  const e: Env = parsed.data;
  const problems: string[] = [];
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  const warnFreeBytes = Math.round(e.FACEPIPE_DISK_WARN_FREE_MB * 1024 * 1024);
  let watchedDirs: WatchedDir[] = [];
  try {
    watchedDirs = parseWatchedDirs(e.FACEPIPE_DATA_DIRS, warnFreeBytes);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const retry: RetryPolicy = { ...defaultRetryPolicy, windowMs: e.FACEPIPE_RETRY_WINDOW_S * 1000, maxDelayMs: e.FACEPIPE_RETRY_MAX_DELAY_S * 1000 };
  return {
    redis: { url: e.REDIS_URL, prefix: e.FACEPIPE_REDIS_PREFIX },
    s3: {
      endpoint: e.S3_ENDPOINT,
      bucket: e.S3_BUCKET,
      region: e.S3_REGION,
      credentials:
        e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
          : undefined,
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
      requestClient: e.S3_REQUEST_CLIENT,
      intermediateExpiryDays: e.FACEPIPE_INTERMEDIATE_EXPIRY_DAYS,
    },
    database: { url: e.DATABASE_URL, clusterMaxDistance: e.FACEPIPE_CLUSTER_MAX_DISTANCE, clusterMinFaces: e.FACEPIPE_CLUSTER_MIN_FACES, clusterMaxLinkage: e.FACEPIPE_CLUSTER_MAX_LINKAGE, retentionStrangerDays: e.FACEPIPE_RETENTION_STRANGER_DAYS },
    detect: {
      concurrency: e.FACEPIPE_DETECT_CONCURRENCY,
      detector: e.FACEPIPE_DETECTOR,
      minScore: e.FACEPIPE_DETECT_MIN_SCORE,
      minFaceSize: e.FACEPIPE_MIN_FACE_SIZE,
      passes: parseDetectPasses(e.FACEPIPE_DETECT_PASSES)!,
      notAFace: parseNotAFaceChecks(e.FACEPIPE_NOT_A_FACE_CHECKS)!,
      maxPixels: e.FACEPIPE_MAX_PIXELS,
      maxBytes: e.FACEPIPE_MAX_BYTES,
    },
    embed: {
      concurrency: e.FACEPIPE_EMBED_CONCURRENCY,
      batchSize: e.FACEPIPE_EMBED_BATCH_SIZE,
      batchWaitMs: e.FACEPIPE_EMBED_BATCH_WAIT_MS,
      flip: e.FACEPIPE_EMBED_FLIP,
    },
    classify: {
      concurrency: e.FACEPIPE_CLASSIFY_CONCURRENCY,
      batchSize: e.FACEPIPE_CLASSIFY_BATCH_SIZE,
      batchWaitMs: e.FACEPIPE_CLASSIFY_BATCH_WAIT_MS,
      tolerance: e.FACEPIPE_MATCH_TOLERANCE,
      classifier: e.FACEPIPE_CLASSIFIER,
      galleryRefreshMs: e.FACEPIPE_GALLERY_REFRESH_MS,
    },
    inference: { executionProvider: e.FACEPIPE_EXECUTION_PROVIDER, threads: e.FACEPIPE_INFERENCE_THREADS, intraOpThreads: e.FACEPIPE_INTRA_OP_THREADS, intraOpSpinning: e.FACEPIPE_INTRA_OP_SPINNING },
    queues: {
      maxQueued: e.FACEPIPE_MAX_QUEUED,
      bounds: { detect: e.FACEPIPE_MAX_QUEUED, embed: e.FACEPIPE_MAX_QUEUED_EMBED ?? e.FACEPIPE_MAX_QUEUED, classify: e.FACEPIPE_MAX_QUEUED_CLASSIFY ?? e.FACEPIPE_MAX_QUEUED },
      keepCompleted: e.FACEPIPE_KEEP_COMPLETED,
      keepFailed: e.FACEPIPE_KEEP_FAILED,
      attempts: e.FACEPIPE_JOB_ATTEMPTS ?? attemptsForWindow(retry),
      retry,
      rememberDoneSeconds: e.FACEPIPE_REMEMBER_DONE_S,
      rememberDoneMax: e.FACEPIPE_REMEMBER_DONE_MAX,
      rememberFailedSeconds: e.FACEPIPE_REMEMBER_FAILED_S,
      lockDurationMs: e.FACEPIPE_LOCK_DURATION_MS,
      stalledIntervalMs: e.FACEPIPE_STALLED_INTERVAL_MS,
      maxStalledCount: e.FACEPIPE_MAX_STALLED_COUNT,
    },
    sweep: { intervalMs: e.FACEPIPE_SWEEP_INTERVAL_S * 1000, idleMs: e.FACEPIPE_SWEEP_IDLE_S * 1000 },
    metricsPort: e.FACEPIPE_METRICS_PORT,
    metricsHost: e.FACEPIPE_METRICS_HOST,
    dashboard: { stallMs: e.FACEPIPE_DASHBOARD_STALL_S * 1000, failureRate: e.FACEPIPE_DASHBOARD_FAILURE_RATE },
    disk: {
      dirs: watchedDirs,
      warnFreeBytes,
      fullFreeBytes: Math.round(e.FACEPIPE_DISK_FULL_FREE_MB * 1024 * 1024),
    },
    http: {
      host: e.FACEPIPE_HTTP_HOST,
      port: e.FACEPIPE_HTTP_PORT,
      token: e.FACEPIPE_API_TOKEN,
      uploadMaxBytes: Math.min(e.FACEPIPE_UPLOAD_MAX_BYTES, e.FACEPIPE_MAX_BYTES),
      uploadMaxFiles: e.FACEPIPE_UPLOAD_MAX_FILES,
      uploadConcurrency: e.FACEPIPE_UPLOAD_CONCURRENCY,
      authMaxFailures: e.FACEPIPE_AUTH_MAX_FAILURES,
      authWindowMs: e.FACEPIPE_AUTH_WINDOW_S * 1000,
      trustProxy: e.FACEPIPE_TRUST_PROXY,
    },
    logLevel: e.FACEPIPE_LOG_LEVEL,
  };
}
