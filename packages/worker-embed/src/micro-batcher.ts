import { BatchPump } from '@facepipe/core';

/** One caller's faces waiting to be embedded. */
interface PendingRequest {
  chips: Uint8Array;
  count: number;
  /** Faces of this request already handed to a batch. */
  taken: number;
  /** Faces whose embeddings have come back. */
  done: number;
  out: Float32Array;
  resolve: (embeddings: Float32Array) => void;
  reject: (err: unknown) => void;
  failed: boolean;
  submittedAt: number;
}

export interface MicroBatcherOptions {
  /** Faces per model run; a batch runs as soon as this many are waiting. @defaultValue 32 */
  batchSize: number;
  /** Longest a face waits for a batch to fill before a smaller batch runs. @defaultValue 25 */
  maxWaitMs: number;
  /** Batches running at once (one per inference thread). @defaultValue 1 */
  maxInFlight?: number;
  /** Bytes of one chip (size × size × 3). */
  chipBytes: number;
  /** Floats per embedding. @defaultValue 128 */
  dims?: number;
  /** Runs the model on `count` chips laid out one after another. */
  run: (chips: Uint8Array, count: number) => Promise<Float32Array>;
  /** Called after each batch with its size and duration (metrics). */
  onBatch?: (size: number, ms: number) => void;
}

/**
 * Gathers faces from many concurrent jobs into micro-batches, so the embedding network (a GPU
 * above all) is never fed one face at a time; when a batch runs is the shared
 * {@link BatchPump}'s rule (full, or its oldest face has waited). A job's faces may be split
 * across batches; its promise resolves when all of them are embedded, in order.
 */
export class MicroBatcher {
  readonly #opts: Required<Omit<MicroBatcherOptions, 'onBatch'>> & Pick<MicroBatcherOptions, 'onBatch'>;
  readonly #pending: PendingRequest[] = [];
  readonly #pump: BatchPump;
  #waitingFaces = 0;

  constructor(options: MicroBatcherOptions) {
    this.#opts = { maxInFlight: 1, dims: 128, ...options };
    this.#pump = new BatchPump(
      { waiting: () => this.#waitingFaces, oldestAt: () => this.#pending.find((r) => r.taken < r.count)?.submittedAt, runBatch: () => this.#runBatch() },
      { batchSize: this.#opts.batchSize, maxWaitMs: this.#opts.maxWaitMs, maxInFlight: this.#opts.maxInFlight },
    );
  }

  /** Faces waiting for a batch (not yet running). */
  get waiting(): number {
    return this.#waitingFaces;
  }

  /** Embeds `count` chips; resolves with `count × dims` floats. */
  submit(chips: Uint8Array, count: number): Promise<Float32Array> {
    if (this.#pump.closed) return Promise.reject(new Error('micro-batcher is closed'));
    if (count === 0) return Promise.resolve(new Float32Array(0));
    if (chips.length !== count * this.#opts.chipBytes) {
      return Promise.reject(new RangeError(`expected ${count * this.#opts.chipBytes} bytes for ${count} chips, got ${chips.length}`));
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({
        chips,
        count,
        taken: 0,
        done: 0,
        out: new Float32Array(count * this.#opts.dims),
        resolve,
        reject,
        failed: false,
        submittedAt: performance.now(),
      });
      this.#waitingFaces += count;
      this.#pump.pump();
    });
  }

  /** Packs up to `batchSize` waiting faces (oldest requests first), runs the model, hands each request its part. */
  async #runBatch(): Promise<void> {
    const { chipBytes, dims, batchSize } = this.#opts;
    const size = Math.min(batchSize, this.#waitingFaces);
    const input = new Uint8Array(size * chipBytes);
    const parts: { request: PendingRequest; from: number; count: number; at: number }[] = [];
    let filled = 0;
    for (const request of this.#pending) {
      if (filled === size) break;
      const available = request.count - request.taken;
      if (available === 0) continue;
      const n = Math.min(available, size - filled);
      input.set(request.chips.subarray(request.taken * chipBytes, (request.taken + n) * chipBytes), filled * chipBytes);
      parts.push({ request, from: request.taken, count: n, at: filled });
      request.taken += n;
      filled += n;
    }
    this.#waitingFaces -= size;
    const started = performance.now();
    let embeddings: Float32Array | undefined;
    let failure: unknown;
    try {
      embeddings = await this.#opts.run(input, size);
      if (embeddings.length !== size * dims) [embeddings, failure] = [undefined, new Error(`model returned ${embeddings.length} floats for ${size} faces`)];
    } catch (err) {
      failure = err;
    }
    for (const { request, from, count, at } of parts) {
      if (request.failed) continue;
      if (!embeddings) {
        request.failed = true;
        request.reject(failure);
        continue;
      }
      request.out.set(embeddings.subarray(at * dims, (at + count) * dims), from * dims);
      request.done += count;
      if (request.done === request.count) request.resolve(request.out);
    }
    this.#dropSettled();
    if (embeddings) this.#opts.onBatch?.(size, performance.now() - started);
  }

  /** Removes requests that are finished or failed (a failed request's other parts are ignored). */
  #dropSettled(): void {
    for (let i = this.#pending.length - 1; i >= 0; i -= 1) {
      const r = this.#pending[i]!;
      if (r.done === r.count || (r.failed && r.taken === r.count)) this.#pending.splice(i, 1);
      else if (r.failed && r.taken < r.count) {
        // Its remaining faces need not be embedded.
        this.#waitingFaces -= r.count - r.taken;
        r.taken = r.count;
        this.#pending.splice(i, 1);
      }
    }
  }

  /** Stops accepting faces, runs what waits at once, and resolves when everything submitted has been embedded. Idempotent. */
  close(): Promise<void> {
    return this.#pump.close();
  }
}
