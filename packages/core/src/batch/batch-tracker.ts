import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../storage/keys.js';
import { trackerCommands } from './lua-scripts.js';

/** What a batch is for. */
export type BatchPurpose = 'ingest' | 'enroll' | 'reindex';

export interface BatchInfo {
  id: string;
  purpose: BatchPurpose;
  source: string;
  createdAt: number;
  /** Items seen so far (final once `ingested`). */
  total: number;
  done: number;
  failed: number;
  /** Faces found in the done items. */
  faces: number;
  /** Items answered from an earlier result (same bytes, same model versions). */
  cached: number;
  /** True once the producer has listed every input. */
  ingested: boolean;
  finishedAt?: number;
  /** Failed items per error code. */
  errors: Record<string, number>;
}

export type ClaimOutcome =
  | { kind: 'done'; faces: number; code: string }
  | { kind: 'attached' }
  | { kind: 'enqueue'; failedQueue?: string; failedJobId?: string };

interface TrackerCommands {
  fpClaimImage(k1: string, k2: string, version: string, waiter: string, staleMs: string, force: string): Promise<string[]>;
  fpCompleteImage(
    k1: string,
    k2: string,
    k3: string,
    version: string,
    outcome: string,
    faces: string,
    code: string,
    prefix: string,
    ttl: string,
    failedQueue: string,
    failedJobId: string,
    rememberMax: string,
    imageId: string,
  ): Promise<number>;
  fpMarkItem(k1: string, index: string, outcome: string, faces: string, code: string): Promise<number>;
  fpFinishIngest(k1: string, total: string): Promise<number>;
  fpAddOpenItem(k1: string): Promise<number>;
  fpCloseBatch(k1: string): Promise<number>;
  fpDeleteIfEqual(k1: string, field: string, value: string): Promise<number>;
}

export interface BatchTrackerOptions {
  /** Redis key prefix (the same one BullMQ uses). */
  prefix: string;
  /**
   * An image queued longer than this is queued again by the next batch that meets it (the
   * deterministic job id makes the add a no-op if the job still exists).
   * @defaultValue 21600000 (6 h)
   */
  staleQueuedMs?: number;
  /**
   * How long Redis remembers an image that finished well, answering repeats without an S3
   * lookup. Each remembered image costs about 0.5 KB of Redis (bench/redis-memory.ts), so this
   * bounds Redis by the images finished in the window, not by the size of the import; after it,
   * repeats are answered from the result document in S3. 0 = not at all.
   * @defaultValue 3600 (1 hour)
   */
  rememberDoneSeconds?: number;
  /**
   * At most this many finished images are remembered (the oldest are forgotten first), so Redis
   * stays bounded however fast images finish: ≈ 0.4 KB each with the list that orders them
   * (bench/redis-bounded.ts), ≈ 40 MB at the default. 0 = no count limit (only the time window).
   * @defaultValue 100000
   */
  rememberDoneMax?: number;
  /**
   * How long Redis remembers an image that failed, with the batches that counted it: when its
   * job is retried later (from the dashboard) and succeeds, those batches count it as done.
   * @defaultValue 86400 (1 day)
   */
  rememberFailedSeconds?: number;
}

/** Creates sortable, unique batch ids. */
export function newBatchId(): string {
  return `b${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

/**
 * Batch progress and image de-duplication in Redis. All writes are Lua scripts, so they are
 * atomic and idempotent (see packages/core/lua/).
 */
export class BatchTracker {
  readonly #redis: Redis & TrackerCommands;
  readonly #prefix: string;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #staleMs: number;
  readonly #rememberDoneSeconds: number;
  readonly #rememberFailedSeconds: number;
  readonly #rememberDoneMax: number;

  constructor(redis: Redis, options: BatchTrackerOptions) {
    this.#prefix = options.prefix;
    this.#keys = redisKeys(options.prefix);
    this.#staleMs = options.staleQueuedMs ?? 6 * 3600 * 1000;
    this.#rememberDoneSeconds = options.rememberDoneSeconds ?? 3600;
    this.#rememberFailedSeconds = options.rememberFailedSeconds ?? 86_400;
    this.#rememberDoneMax = options.rememberDoneMax ?? 100_000;
    if (!Number.isInteger(this.#rememberDoneMax) || this.#rememberDoneMax < 0) throw new RangeError('rememberDoneMax must be a whole number ≥ 0');
    if (!(this.#rememberDoneSeconds >= 0) || !(this.#rememberFailedSeconds >= 1)) throw new RangeError('remember times must be ≥ 0 (done) and ≥ 1 (failed) seconds');
    const r = redis as Redis & Partial<TrackerCommands>;
    if (!r.fpClaimImage) {
      for (const [name, command] of Object.entries(trackerCommands)) redis.defineCommand(name, command);
    }
    this.#redis = redis as Redis & TrackerCommands;
  }

  #batchKey(id: string): string {
    return this.#keys.batch(id);
  }

  #imageKeys(imageId: string): [string, string] {
    return [this.#keys.image(imageId), this.#keys.imageWaiters(imageId)];
  }

  async createBatch(id: string, purpose: BatchPurpose, source: string): Promise<void> {
    const now = Date.now();
    await this.#redis
      .multi()
      .hset(this.#batchKey(id), { purpose, source, createdAt: now, total: 0, done: 0, failed: 0, faces: 0, cached: 0, ingested: 0 })
      .zadd(this.#keys.batches, now, id)
      .exec();
  }

  /** Counts one more input; returns its index in the batch (0-based). */
  async addItem(batchId: string): Promise<number> {
    return (await this.#redis.hincrby(this.#batchKey(batchId), 'total', 1)) - 1;
  }

  /**
   * Counts one more item of an open batch (one still receiving uploads) and returns its index,
   * atomically with the check: undefined when the batch does not exist or was closed.
   */
  async addOpenItem(batchId: string): Promise<number | undefined> {
    const index = await this.#redis.fpAddOpenItem(this.#batchKey(batchId));
    return index < 0 ? undefined : index;
  }

  /**
   * Closes an open batch with the items it has now (no more can be added); it finishes once they
   * are all done or failed. Returns that total, or undefined when the batch does not exist.
   */
  async closeBatch(batchId: string): Promise<number | undefined> {
    const total = await this.#redis.fpCloseBatch(this.#batchKey(batchId));
    return total < 0 ? undefined : total;
  }

  async finishIngest(batchId: string, total: number): Promise<void> {
    await this.#redis.fpFinishIngest(this.#batchKey(batchId), String(total));
  }

  /**
   * Registers batch item `index` as waiting for `imageId` and says what the caller must do:
   * nothing more (`done`: mark it now; `attached`: another batch's run will mark it) or queue it.
   */
  async claimImage(imageId: string, pipelineVersion: string, batchId: string, index: number, force = false): Promise<ClaimOutcome> {
    const [k1, k2] = this.#imageKeys(imageId);
    const out = await this.#redis.fpClaimImage(k1, k2, pipelineVersion, `${batchId}:${index}`, String(this.#staleMs), force ? '1' : '0');
    if (out[0] === 'done') return { kind: 'done', faces: Number(out[1]), code: out[2] ?? '' };
    if (out[0] === 'attached') return { kind: 'attached' };
    return { kind: 'enqueue', failedQueue: out[1] || undefined, failedJobId: out[2] || undefined };
  }

  /** Records an image's final outcome and marks every batch item waiting on it. */
  async completeImage(
    imageId: string,
    pipelineVersion: string,
    outcome: { kind: 'done'; faces: number } | { kind: 'failed'; code: string; queue: string; jobId: string },
  ): Promise<number> {
    const [k1, k2] = this.#imageKeys(imageId);
    return this.#redis.fpCompleteImage(
      k1,
      k2,
      this.#keys.rememberedDone,
      pipelineVersion,
      outcome.kind,
      String(outcome.kind === 'done' ? outcome.faces : 0),
      outcome.kind === 'failed' ? outcome.code : '',
      this.#prefix,
      // EXPIRE with 0 deletes the key: a done image is then not remembered at all.
      String(outcome.kind === 'done' ? this.#rememberDoneSeconds : this.#rememberFailedSeconds),
      outcome.kind === 'failed' ? outcome.queue : '',
      outcome.kind === 'failed' ? outcome.jobId : '',
      String(this.#rememberDoneMax),
      imageId,
    );
  }

  /** Marks one item directly (an input rejected before it entered the pipeline, or a cached result). */
  async markItem(batchId: string, index: number, outcome: { kind: 'done'; faces: number; cached?: boolean } | { kind: 'failed'; code: string }): Promise<void> {
    const key = this.#batchKey(batchId);
    if (outcome.kind === 'done' && outcome.cached) await this.#redis.hincrby(key, 'cached', 1);
    await this.#redis.fpMarkItem(key, String(index), outcome.kind, String(outcome.kind === 'done' ? outcome.faces : 0), outcome.kind === 'failed' ? outcome.code : '');
  }

  async getBatch(batchId: string): Promise<BatchInfo | undefined> {
    const h = await this.#redis.hgetall(this.#batchKey(batchId));
    if (!h.createdAt) return undefined;
    const errors: Record<string, number> = {};
    for (const [k, v] of Object.entries(h)) if (k.startsWith('err:') && Number(v) > 0) errors[k.slice(4)] = Number(v);
    return {
      id: batchId,
      purpose: (h.purpose as BatchPurpose) ?? 'ingest',
      source: h.source ?? '',
      createdAt: Number(h.createdAt),
      total: Number(h.total ?? 0),
      done: Number(h.done ?? 0),
      failed: Number(h.failed ?? 0),
      faces: Number(h.faces ?? 0),
      cached: Number(h.cached ?? 0),
      ingested: h.ingested === '1',
      finishedAt: h.finishedAt ? Number(h.finishedAt) : undefined,
      errors,
    };
  }

  /** Most recent batches first: `limit` of them, after the batch `after` (the previous page's last) when given. */
  async listBatches(limit = 50, after?: { createdAt: number; id: string }): Promise<BatchInfo[]> {
    const key = this.#keys.batches;
    let ids: string[];
    if (after === undefined) ids = await this.#redis.zrevrange(key, 0, limit - 1);
    else {
      // Newest first is (createdAt, id) descending: after the cursor's batch come the older ones
      // and, of those created in the same ms, the ids below its own.
      const sameMs = await this.#redis.zcount(key, after.createdAt, after.createdAt);
      const scanned = await this.#redis.zrevrangebyscore(key, after.createdAt, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + sameMs);
      ids = [];
      for (let i = 0; i < scanned.length && ids.length < limit; i += 2) {
        const [id, score] = [scanned[i]!, Number(scanned[i + 1])];
        if (score < after.createdAt || id < after.id) ids.push(id);
      }
    }
    const infos = await Promise.all(ids.map((id) => this.getBatch(id)));
    return infos.filter((b): b is BatchInfo => b !== undefined);
  }

  /** Whether item `index` of a batch has finished (done or failed). */
  async itemState(batchId: string, index: number): Promise<'done' | 'failed' | 'pending'> {
    const [done, failed] = await Promise.all([this.#redis.getbit(this.#keys.batchDone(batchId), index), this.#redis.getbit(this.#keys.batchFailed(batchId), index)]);
    return done ? 'done' : failed ? 'failed' : 'pending';
  }

  /**
   * Items of a batch neither done nor failed, in index order (at most `limit`): read from the
   * batch's two bitmaps, for the sweeper.
   */
  async pendingItems(batchId: string, total: number, limit = 1000): Promise<number[]> {
    const [done, failed] = await Promise.all([this.#redis.getBuffer(this.#keys.batchDone(batchId)), this.#redis.getBuffer(this.#keys.batchFailed(batchId))]);
    const bit = (buf: Buffer | null, i: number) => (buf !== null && i >> 3 < buf.length ? (buf[i >> 3]! >> (7 - (i & 7))) & 1 : 0);
    const out: number[] = [];
    for (let i = 0; i < total && out.length < limit; i += 1) if (!bit(done, i) && !bit(failed, i)) out.push(i);
    return out;
  }

  #stashKey(): string {
    return this.#keys.stashedResults;
  }

  /**
   * Keeps a result document that could not be written to S3 (an outage), so the image can be
   * counted now and its result written when S3 answers again ({@link stashedResults}).
   */
  async stashResult(imageId: string, document: unknown): Promise<void> {
    await this.#redis.hset(this.#stashKey(), imageId, JSON.stringify(document));
  }

  /** A stashed result document, if one waits for S3. */
  async stashedResult<T>(imageId: string): Promise<T | undefined> {
    const raw = await this.#redis.hget(this.#stashKey(), imageId);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  /** Up to `count` stashed documents (imageId, raw JSON), to be written to S3. */
  async stashedResults(count = 100): Promise<{ imageId: string; raw: string }[]> {
    const [, flat] = await this.#redis.hscan(this.#stashKey(), '0', 'COUNT', count);
    const out: { imageId: string; raw: string }[] = [];
    for (let i = 0; i + 1 < flat.length && out.length < count; i += 2) out.push({ imageId: flat[i]!, raw: flat[i + 1]! });
    return out;
  }

  /** How many documents wait for S3. */
  async stashedCount(): Promise<number> {
    return this.#redis.hlen(this.#stashKey());
  }

  /** Forgets a stashed document once written, unless a newer one replaced it meanwhile. */
  async dropStashedResult(imageId: string, raw: string): Promise<void> {
    await this.#redis.fpDeleteIfEqual(this.#stashKey(), imageId, raw);
  }

  /** What Redis remembers of an image: its state while queued, then for FACEPIPE_REMEMBER_DONE_S / _FAILED_S. */
  async imageState(imageId: string): Promise<{ state: string; version?: string; code?: string; failedQueue?: string; failedJobId?: string } | undefined> {
    const h = await this.#redis.hgetall(this.#imageKeys(imageId)[0]);
    if (!h.state) return undefined;
    return { state: h.state, version: h.version || undefined, code: h.code || undefined, failedQueue: h.failedQueue || undefined, failedJobId: h.failedJobId || undefined };
  }
}
