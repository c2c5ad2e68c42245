/**
 * The JSON the dashboard reads, as types: the one statement of these shapes. It has no imports,
 * so both the service (which builds these answers) and the dashboard's browser script (compiled
 * with the DOM library only, see tsconfig.json) compile it; the script imports it as types only,
 * so nothing of it is served. The /v1 answers the dashboard reads are zod schemas in
 * ../contract/schemas.ts, checked at compile time to agree with the types at the end here.
 */

/** What started a batch: a folder ingest, an API upload, an enrollment, a re-index. */
export type BatchKind = 'ingest' | 'upload' | 'enroll' | 'reindex';

/**
 * Where a batch stands: `waiting` (stuck behind a queue with no workers), `paused` (a queue it
 * needs is paused), `stalled` (no progress for the stall time), `running`, `finished`.
 */
export type BatchState = 'running' | 'paused' | 'waiting' | 'stalled' | 'finished';

/** One batch as the dashboard lists it. */
export interface DashboardBatch {
  id: string;
  kind: BatchKind;
  source: string;
  createdAt: number;
  finishedAt: number | null;
  /** False once the batch has all its inputs. */
  open: boolean;
  total: number;
  done: number;
  failed: number;
  faces: number;
  cached: number;
  /** 0..1 of the items known so far. */
  progress: number;
  state: BatchState;
  /** Items per second over the last minute; null when not known yet or not running. */
  ratePerSecond: number | null;
  /** Seconds left at the recent rate; null when unknown, paused, waiting, stalled or finished. */
  etaSeconds: number | null;
  /** Seconds since the batch last made progress (as far as this service has seen). */
  idleSeconds: number;
  /** Seconds from creation to finish, for finished batches. */
  durationSeconds: number | null;
  /** Failed items per error code, admission rejections included. */
  errors: Record<string, number>;
}

/** Several small uploads shown as one row. */
export interface UploadGroup {
  kind: 'upload-group';
  batches: DashboardBatch[];
  total: number;
  done: number;
  failed: number;
  faces: number;
  newestAt: number;
  oldestAt: number;
  /** Always `finished`: only finished uploads are grouped. */
  state: BatchState;
}

export type BatchRow = DashboardBatch | UploadGroup;

/** One banner at the top of the dashboard. */
export interface DashboardAlert {
  kind: 'no-workers' | 'paused' | 'failure-rate' | 'stalled' | 'disk-full' | 'disk-low' | 'held-back' | 'not-admitted';
  /** `error` needs someone now; `warning` may be intended (a paused queue). */
  severity: 'error' | 'warning';
  message: string;
  queue?: string;
  batchId?: string;
  /** The data dir of a disk-full or disk-low banner. */
  dir?: string;
}

/** The BullMQ job states the overview counts (core's `queueStates`). */
export type QueueJobState = 'waiting' | 'prioritized' | 'active' | 'delayed' | 'completed' | 'failed' | 'waiting-children';

/** p50/p95/p99 of a sample, ms; null for none. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface QueueOverview {
  name: string;
  counts: Record<QueueJobState, number>;
  paused: boolean;
  /** Worker connections (BullMQ names them per queue). */
  workers: number;
  /** Jobs completed and failed per minute, oldest first, the last entry being the current minute. */
  completedPerMinute: number[];
  failedPerMinute: number[];
  /** Wait (added → started) and processing (started → finished) percentiles, ms, over recent completed jobs. */
  latency: { samples: number; waitMs: Percentiles; processMs: Percentiles };
}

/** GET /dashboard/api/overview */
export interface Overview {
  generatedAt: string;
  queues: QueueOverview[];
  /** Newest first, small uploads grouped. */
  batches: BatchRow[];
  /** Banners, most urgent first. */
  alerts: DashboardAlert[];
  gallery: { version: number; people: number; faces: number } | null;
  /** Whole-pipeline backpressure: each stage's waiting jobs against its bound, and the stages holding admission back. */
  admission: { heldBackBy: string[]; stages: { stage: string; waiting: number; bound: number }[] };
}

/** A failure code of a batch, with whether retrying can help. */
export interface CodeCount {
  code: string;
  count: number;
  retryable: boolean;
  summary: string;
}

/** GET /dashboard/api/batches/{id} */
export interface BatchDetail {
  batch: DashboardBatch;
  failures: CodeCount[];
}

/**
 * How a face got the name shown: `hand`: a person named this face (label); `named`: a person
 * named its cluster, enrolled it or moved it to someone; `auto`: the naming rule matched it to a
 * person's examples; `unknown`: no name.
 */
export type Naming = 'hand' | 'named' | 'auto' | 'unknown';

/** One face of a batch item: the name shown and how it was given. */
export interface ItemFace {
  box: [number, number, number, number];
  cropIndex: number;
  name: string | null;
  naming: Naming;
  /** The automatic match, even when a hand-given name overrides it. */
  matchName: string | null;
  distance: number | null;
}

/** A detection set aside (LOW_CONFIDENCE, SMALL_BOUNDING_BOX, NOT_A_FACE, …), as the dashboard shows it. */
export interface ItemRejected {
  box: [number, number, number, number];
  score: number;
  reason: string;
  /** NOT_A_FACE by the animal check: what it looks like instead, e.g. `cat`. */
  looksLike?: string;
}

export interface BatchItem {
  index: number;
  file: string;
  imageId: string | null;
  status: 'done' | 'failed' | 'pending';
  /** Set for failures; `admission` when the input was rejected before it entered the pipeline. */
  error?: { code: string; message: string; retryable: boolean; admission: boolean };
  width: number | null;
  height: number | null;
  faces: ItemFace[];
  /** Detections set aside, with the reason ([] for results of versions that did not record them). */
  rejected: ItemRejected[];
}

/** GET /dashboard/api/batches/{id}/items */
export interface BatchItems {
  items: BatchItem[];
  /** The offset of the next page; null on the last. */
  next: number | null;
}

/** The newest failed job of a code. */
export interface FailureSample {
  id: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn: number | null;
  data: { imageId?: string; source?: string; batchId?: string };
}

/** Failed jobs of one code in a queue. */
export interface FailureGroup {
  code: string;
  count: number;
  /** The newest failed job with this code. */
  sampleJobId: string;
  retryable: boolean;
  summary: string;
  sample: FailureSample | null;
}

/** One queue of GET /dashboard/api/failures. */
export interface QueueFailures {
  queue: string;
  failed: number;
  /** Failed jobs looked at (the newest; a bounded scan). */
  scanned: number;
  groups: FailureGroup[];
}

/** One of GET /dashboard/api/recent's results. */
export interface RecentResult {
  imageId: string;
  source: string;
  width: number | null;
  height: number | null;
  faceCount: number;
  faces: (ItemFace & { index: number; confidence: number })[];
  rejected: ItemRejected[];
  galleryVersion: number | null;
  processedAt: string;
}

// ---- /v1 answers the dashboard reads (their zod schemas are checked against these) ----

/** A face of a person or cluster: its image, its index there, the image's source. */
export interface FaceRef {
  imageId: string;
  face: number;
  source: string;
}

/** GET /v1/clusters's items. */
export interface Cluster {
  id: string;
  faces: number;
  embedVersion: string;
  samples: FaceRef[];
}

/** The face shown for a person. */
export interface CoverFace {
  faceId: string;
  imageId: string;
  face: number;
  box: number[];
}

/** GET /v1/people/{name}: a person of the face index. */
export interface LibraryPerson {
  id: string;
  name: string;
  hidden: boolean;
  faceCount: number;
  examples: number;
  cover: CoverFace | null;
}

/** GET /v1/people's items: a person of the face index or of the gallery only, with their enrolled faces. */
export interface PersonEntry {
  id?: string;
  name: string;
  hidden?: boolean;
  faceCount: number;
  examples?: number;
  cover?: CoverFace | null;
  faces: { imageId: string; cropIndex: number }[];
}

/** GET /v1/people: a page of people by name. */
export interface People {
  galleryVersion: number | null;
  people: PersonEntry[];
  nextCursor: string | null;
}

/** GET /v1/people/{name}/faces */
export interface PersonFaces {
  name: string;
  faces: (FaceRef & { faceId: string; how: 'auto' | 'hand' | 'enrolled' | null; distance: number | null; box: number[] })[];
  nextCursor: string | null;
}

/** GET /v1/clusters/{id}/faces */
export interface ClusterFaces {
  cluster: string;
  faces: (FaceRef & { faceId: string; box: number[] })[];
  nextCursor: string | null;
}

/** Who a face is, in a preview. */
export interface FaceAnswer {
  name: string | null;
  how: 'auto' | 'hand' | 'enrolled' | null;
  suggestion: string | null;
  distance: number | null;
}

/** GET /v1/clusters/{id}/preview */
export interface ClusterNamePreview {
  cluster: string;
  person: string;
  faces: number;
  changes: (FaceRef & { before: FaceAnswer; after: FaceAnswer })[];
}

/** GET /v1/people-audit's items. */
export interface PeopleAuditEntry {
  id: string;
  at: string;
  actor: string;
  action: 'rename' | 'hide' | 'show' | 'delete' | 'merge' | 'name-cluster' | 'not-this-person' | 'not-a-face' | 'ignore-cluster' | 'cover';
  summary: string;
  undoneAt: string | null;
  undoneBy: string | null;
  undoable: boolean;
}

/** GET /dashboard/api/session: who the dashboard is signed in as, and what they may do. */
export interface DashboardSession {
  who: 'token' | 'key' | 'open';
  keyId: string | null;
  keyName: string | null;
  scopes: ('upload' | 'read' | 'people' | 'admin')[];
}
