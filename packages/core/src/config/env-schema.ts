import { z } from 'zod';
import { DETECT_PASS_NAMES, parseDetectPasses } from './detect-passes.js';
import { NOT_A_FACE_CHECK_NAMES, parseNotAFaceChecks } from './not-a-face-checks.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

/**
 * Every setting facepipe reads from the environment, with its default. Validated once at start
 * (see {@link loadConfig}); a bad value stops the process with a message naming the variable.
 * docs/configuration.md is the reference for operators and must list each of these.
 */
export const envSchema = z.object({
  /** Redis for the queues. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key facepipe and BullMQ write. @defaultValue facepipe */
  FACEPIPE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('facepipe'),

  /** S3-compatible endpoint (MinIO, s3rver, Ceph…); empty = AWS S3 of S3_REGION. */
  S3_ENDPOINT: z.string().url().optional(),
  /** Bucket holding originals, crops, embeddings, results and the gallery. @defaultValue facepipe */
  S3_BUCKET: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'S3 bucket names use lowercase letters, digits, dots and hyphens').default('facepipe'),
  /** @defaultValue us-east-1 */
  S3_REGION: z.string().default('us-east-1'),
  /** Access key; unset = the AWS SDK's default chain (instance role, ~/.aws, AWS_* variables). */
  S3_ACCESS_KEY_ID: z.string().optional(),
  /** Secret key, set together with S3_ACCESS_KEY_ID. Never logged. */
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Path-style addressing (needed by MinIO/s3rver). @defaultValue true when S3_ENDPOINT is set */
  S3_FORCE_PATH_STYLE: bool.optional(),
  /**
   * What sends single-object requests (get, put, head, delete): `light` = facepipe's own
   * SigV4 client over Node's HTTP (3–6× less CPU per request), `sdk` = the AWS SDK for every
   * request. Listings, copies and credentials always go through the SDK. @defaultValue light
   */
  S3_REQUEST_CLIENT: z.enum(['light', 'sdk']).default('light'),
  /**
   * Days after which the stages' intermediate objects (faces.json, the exact chips,
   * embeddings.json) expire if nothing consumed them (an image that failed, a delete that did not
   * get through): they are tagged `facepipe-lifecycle=intermediate` and the bucket gets a
   * lifecycle rule `facepipe-intermediates` (merged with the bucket's other rules). 0 = no tag and
   * no rule. @defaultValue 7
   */
  FACEPIPE_INTERMEDIATE_EXPIRY_DAYS: int(0, 3650).default(7),

  /**
   * PostgreSQL with pgvector holding the face index (faces, people, clusters), e.g.
   * postgres://facepipe:secret@db:5432/facepipe. `facepipe run` and the tests start an embedded
   * one (PGlite) and set it; unset in a worker = no face index (results only, no clusters or people).
   */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'use a postgres:// or postgresql:// URL').optional(),
  /** Largest distance at which a cluster's face counts as support for a face joining it; see docs/recognition.md. @defaultValue 0.5 */
  FACEPIPE_CLUSTER_MAX_DISTANCE: num(0.05, 2).default(0.5),
  /** Faces a new cluster needs; a face joins a cluster only with this many minus one of its faces within FACEPIPE_CLUSTER_MAX_DISTANCE. @defaultValue 2 */
  FACEPIPE_CLUSTER_MIN_FACES: int(2, 1000).default(2),
  /** Largest average distance between a face and a cluster's faces, or between two clusters that merge (average linkage); chosen on the LFW library, see docs/recognition.md. @defaultValue 0.4 */
  FACEPIPE_CLUSTER_MAX_LINKAGE: num(0.05, 2).default(0.4),
  /**
   * Retention: photos of strangers nobody confirmed (no face named, labelled or enrolled) are
   * erased this many days after they were processed, by a `retention` schedule (docs/privacy.md).
   * Unset: kept until erased by hand.
   */
  FACEPIPE_RETENTION_STRANGER_DAYS: int(1, 36_500).optional(),

  /** Jobs one detect process works on at once (each decode+detect is CPU-bound). @defaultValue 2 */
  FACEPIPE_DETECT_CONCURRENCY: int(1, 256).default(2),
  /** Jobs one embed process holds at once: the pool the micro-batcher fills batches from. @defaultValue 64 */
  FACEPIPE_EMBED_CONCURRENCY: int(1, 4096).default(64),
  /** Faces per embedding micro-batch. @defaultValue 32 */
  FACEPIPE_EMBED_BATCH_SIZE: int(1, 1024).default(32),
  /** Longest wait (ms) for a micro-batch to fill before it runs anyway. @defaultValue 25 */
  FACEPIPE_EMBED_BATCH_WAIT_MS: int(0, 60_000).default(25),
  /** Jobs one classify process holds at once: the pool its micro-batches are filled from (twice FACEPIPE_CLASSIFY_BATCH_SIZE keeps two batches full). @defaultValue 32 */
  FACEPIPE_CLASSIFY_CONCURRENCY: int(1, 1024).default(32),
  /** Images per classify micro-batch: written to the face index, named and clustered in one transaction (1: one image at a time). @defaultValue 16 */
  FACEPIPE_CLASSIFY_BATCH_SIZE: int(1, 256).default(16),
  /** Longest wait (ms) for a classify micro-batch to fill before it runs anyway. @defaultValue 20 */
  FACEPIPE_CLASSIFY_BATCH_WAIT_MS: int(0, 60_000).default(20),

  /** Face detector network. @defaultValue ssd */
  FACEPIPE_DETECTOR: z.enum(['ssd', 'tiny']).default('ssd'),
  /** Minimum detection score (0..1); 0.4 was chosen on the dev data, see docs/accuracy.md. @defaultValue 0.4 */
  FACEPIPE_DETECT_MIN_SCORE: num(0.01, 0.99).default(0.4),
  /**
   * The SSD's extra passes, each run only when it pays (docs/accuracy.md): `all`, `none`, or a
   * comma-separated list of `padded` (large faces), `tiles` (small faces in large photos),
   * `turned` (sideways photos). @defaultValue all
   */
  FACEPIPE_DETECT_PASSES: z
    .string()
    .refine((v) => parseDetectPasses(v) !== undefined, `all, none, or a comma-separated list of ${DETECT_PASS_NAMES.join(', ')}`)
    .default('all'),
  /**
   * The NOT_A_FACE checks on each detection (docs/accuracy.md): `all`, `none`, or a
   * comma-separated list of `animal` (an object detector on the face's surroundings sets pets'
   * faces aside; about 10 ms per photo with faces on one core) and `mirror` (the landmark net on
   * the mirrored crop; has set nothing aside in any measured set). @defaultValue animal
   */
  FACEPIPE_NOT_A_FACE_CHECKS: z
    .string()
    .refine((v) => parseNotAFaceChecks(v) !== undefined, `all, none, or a comma-separated list of ${NOT_A_FACE_CHECK_NAMES.join(', ')}`)
    .default('animal'),
  /** Smallest face kept, in original pixels (shorter box side). @defaultValue 20 */
  FACEPIPE_MIN_FACE_SIZE: int(0, 10_000).default(20),
  /** Largest image accepted, in pixels (width × height): the decompression-bomb guard. @defaultValue 100000000 */
  FACEPIPE_MAX_PIXELS: int(1, 1_000_000_000).default(100_000_000),
  /** Largest file accepted, in bytes. @defaultValue 104857600 (100 MiB) */
  FACEPIPE_MAX_BYTES: int(1, 2 ** 40).default(100 * 1024 * 1024),
  /** Average each embedding with its mirror image's (test-time flip). @defaultValue false */
  FACEPIPE_EMBED_FLIP: bool.default(false),

  /** Largest distance at which a face is named after its nearest known person. @defaultValue 0.6 */
  FACEPIPE_MATCH_TOLERANCE: num(0, 4).default(0.6),
  /** How faces are named: nearest neighbour or a one-vs-rest linear SVM. @defaultValue nearest */
  FACEPIPE_CLASSIFIER: z.enum(['nearest', 'svm']).default('nearest'),
  /** How often (ms) classify workers look for a new gallery version. @defaultValue 2000 */
  FACEPIPE_GALLERY_REFRESH_MS: int(100, 3_600_000).default(2000),

  /** ONNX Runtime execution provider. @defaultValue cpu */
  FACEPIPE_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda', 'webgpu']).default('cpu'),
  /** Inference worker threads per process (each runs one model batch at a time). @defaultValue 1 */
  FACEPIPE_INFERENCE_THREADS: int(1, 64).default(1),
  /** ONNX Runtime intra-op threads per inference thread. @defaultValue 1 */
  FACEPIPE_INTRA_OP_THREADS: int(1, 256).default(1),
  /**
   * Let ONNX Runtime's intra-op threads busy-wait between runs (only with FACEPIPE_INTRA_OP_THREADS
   * above 1). Off, idle sessions leave the cores to the rest of the process. @defaultValue false
   */
  FACEPIPE_INTRA_OP_SPINNING: bool.default(false),

  /** Admission (ingest, uploads, re-index) holds back while the detect queue has this many waiting jobs. @defaultValue 2000 */
  FACEPIPE_MAX_QUEUED: int(1, 10_000_000).default(2000),
  /**
   * Admission also holds back while the embed queue has this many waiting jobs, so Redis stays
   * bounded whichever stage is slowest. Unset = FACEPIPE_MAX_QUEUED.
   */
  FACEPIPE_MAX_QUEUED_EMBED: int(1, 10_000_000).optional(),
  /** Admission also holds back while the classify queue has this many waiting jobs. Unset = FACEPIPE_MAX_QUEUED. */
  FACEPIPE_MAX_QUEUED_CLASSIFY: int(1, 10_000_000).optional(),
  /** Completed jobs kept per queue (older ones are removed, so Redis stays small). @defaultValue 1000 */
  FACEPIPE_KEEP_COMPLETED: int(0, 10_000_000).default(1000),
  /** Failed jobs kept per queue for inspection and retry. @defaultValue 10000 */
  FACEPIPE_KEEP_FAILED: int(0, 10_000_000).default(10_000),
  /**
   * Seconds Redis remembers an image that finished well (≈ 0.5 KB each), so repeats within the
   * window skip an S3 lookup; later repeats are answered from S3. 0 = not at all. @defaultValue 3600
   */
  FACEPIPE_REMEMBER_DONE_S: int(0, 30 * 86_400).default(3600),
  /**
   * At most this many finished images are remembered (≈ 0.4 KB each; the oldest are forgotten
   * first), so Redis stays bounded however fast images finish. 0 = no count limit. @defaultValue 100000
   */
  FACEPIPE_REMEMBER_DONE_MAX: int(0, 100_000_000).default(100_000),
  /** Seconds Redis remembers a failed image and the batches that counted it, so a later successful retry corrects their counts. @defaultValue 86400 */
  FACEPIPE_REMEMBER_FAILED_S: int(1, 30 * 86_400).default(86_400),
  /**
   * How long (seconds) a job keeps retrying transient failures (S3 or a model unavailable): the
   * capped exponential waits between its attempts add up to at least this, so an outage shorter
   * than it never turns into a failure. Input errors are never retried. @defaultValue 900
   */
  FACEPIPE_RETRY_WINDOW_S: int(0, 7 * 86_400).default(900),
  /** Longest wait (seconds) between two attempts of a job (waits start at 1 s and double). @defaultValue 30 */
  FACEPIPE_RETRY_MAX_DELAY_S: int(1, 3600).default(30),
  /** Caps the attempts per job (tests use 1 to fail fast); unset = as many as FACEPIPE_RETRY_WINDOW_S needs. */
  FACEPIPE_JOB_ATTEMPTS: int(1, 10_000).optional(),
  /**
   * How long (ms) a worker's hold on a job lasts without renewal; it is renewed every half of it.
   * After a crash (kill -9, out of memory) the job is taken back within about this plus
   * FACEPIPE_STALLED_INTERVAL_MS. Chosen by measurement: the event loop of a stage under full
   * load lags far less than the half renewal margin (docs/reliability.md). @defaultValue 5000
   */
  FACEPIPE_LOCK_DURATION_MS: int(1000, 600_000).default(5000),
  /** How often (ms) workers look for jobs whose holder died (stalled jobs). @defaultValue 2500 */
  FACEPIPE_STALLED_INTERVAL_MS: int(500, 600_000).default(2500),
  /**
   * Times a job may be taken back from a crashed worker before it fails as WORKER_CRASHED (a
   * photo that kills its worker every time must not kill the whole pool forever). @defaultValue 1
   */
  FACEPIPE_MAX_STALLED_COUNT: int(0, 100).default(1),
  /** How often (seconds) a stage process sweeps: stored failures flushed to S3, stuck batches repaired (0 = never). @defaultValue 15 */
  FACEPIPE_SWEEP_INTERVAL_S: int(0, 86_400).default(15),
  /** A batch whose counts have not moved for this long (seconds) is checked for items that no job carries any more. @defaultValue 60 */
  FACEPIPE_SWEEP_IDLE_S: int(1, 86_400).default(60),

  /** Port of a worker's /metrics, /healthz and /readyz (0 = pick a free port, -1 = off). @defaultValue 0 */
  FACEPIPE_METRICS_PORT: int(-1, 65535).default(0),
  /** Address a worker's /metrics, /healthz and /readyz listen on (Prometheus and probes reach it there). @defaultValue 0.0.0.0 */
  FACEPIPE_METRICS_HOST: z.string().min(1).default('0.0.0.0'),

  /** Address `facepipe serve` (upload API, dashboard) listens on; a non-loopback address needs FACEPIPE_API_TOKEN. @defaultValue 127.0.0.1 */
  FACEPIPE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of `facepipe serve` (0 = pick a free port). @defaultValue 8080 */
  FACEPIPE_HTTP_PORT: int(0, 65535).default(8080),
  /** Bearer token the upload API and dashboard require (16+ characters, no spaces); unset = no auth, loopback only. Never logged. */
  FACEPIPE_API_TOKEN: z.string().min(16, 'use at least 16 characters, e.g. the output of `openssl rand -hex 24`').max(512).regex(/^\S+$/, 'no spaces').optional(),
  /** Largest file one upload accepts, in bytes (capped at FACEPIPE_MAX_BYTES). @defaultValue 33554432 (32 MiB) */
  FACEPIPE_UPLOAD_MAX_BYTES: int(1, 2 ** 40).default(32 * 1024 * 1024),
  /** Files one upload request may carry. @defaultValue 100 */
  FACEPIPE_UPLOAD_MAX_FILES: int(1, 100_000).default(100),
  /** Uploaded files held in memory at once across all requests (each at most FACEPIPE_UPLOAD_MAX_BYTES); more wait, with TCP backpressure. @defaultValue 16 */
  FACEPIPE_UPLOAD_CONCURRENCY: int(1, 4096).default(16),
  /** Failed sign-ins or wrong tokens one client address may send per FACEPIPE_AUTH_WINDOW_S before it gets 429 until the window ends. @defaultValue 10 */
  FACEPIPE_AUTH_MAX_FAILURES: int(1, 1_000_000).default(10),
  /** Window (seconds) for FACEPIPE_AUTH_MAX_FAILURES. @defaultValue 60 */
  FACEPIPE_AUTH_WINDOW_S: int(1, 86_400).default(60),
  /** Take the client address from X-Forwarded-For (set it behind a reverse proxy, so limits apply per client, not per proxy). @defaultValue false */
  FACEPIPE_TRUST_PROXY: bool.default(false),
  /** Seconds an unfinished batch may go without progress before the dashboard shows it as stalled. @defaultValue 120 */
  FACEPIPE_DASHBOARD_STALL_S: int(1, 86_400).default(120),
  /** Share (0..1) of a queue's jobs failing over the last 15 minutes above which the dashboard raises a banner. @defaultValue 0.1 */
  FACEPIPE_DASHBOARD_FAILURE_RATE: num(0, 1).default(0.1),
  /**
   * Folders whose free space the service watches (comma-separated; `dir=<MiB>` gives one its own
   * warning level): the dashboard, /metrics and /readyz show "disk full" and warn before it.
   * `facepipe up`/`run` set it to their data dir and its stores. @defaultValue none
   */
  FACEPIPE_DATA_DIRS: z.string().optional(),
  /** Free space (MiB) under which a watched data dir raises the "disk space low" warning. @defaultValue 1024 */
  FACEPIPE_DISK_WARN_FREE_MB: num(0, 1_000_000_000).default(1024),
  /** Free space (MiB) under which a watched data dir counts as full: uploads wait, /readyz fails, `facepipe up` refuses to start. @defaultValue 16 */
  FACEPIPE_DISK_FULL_FREE_MB: num(0, 1_000_000_000).default(16),
  /** Log level. @defaultValue info */
  FACEPIPE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;
