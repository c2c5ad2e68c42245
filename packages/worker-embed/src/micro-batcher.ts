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
 * above all) is never fed one face at a time: a batch runs when `batchSize` faces wait, or when
 * the oldest has waited `maxWaitMs`. A job's faces may be split across batches; its promise
 * resolves when all of them are embedded, in order.
 */
export class MicroBatcher {
  readonly #opts: Required<Omit<MicroBatcherOptions, 'onBatch'>> & Pick<MicroBatcherOptions, 'onBatch'>;
  readonly #pending: PendingRequest[] = [];
  #waitingFaces = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(options: MicroBatcherOptions) {
    if (options.batchSize < 1) throw new RangeError('batchSize must be at least 1');
    this.#opts = { maxInFlight: 1, dims: 128, ...options };
  }

  /** Faces waiting for a batch (not yet running). */
  get waiting(): number {
    return this.#waitingFaces;
  }

  /** Embeds `count` chips; resolves with `count × dims` floats. */
  submit(chips: Uint8Array, count: number): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(new Error('micro-batcher is closed'));
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
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#opts.maxInFlight && this.#waitingFaces >= this.#opts.batchSize) this.#launch();
    if (this.#waitingFaces === 0 || this.#inFlight >= this.#opts.maxInFlight) {
      this.#clearTimer();
      return;
    }
    // A partial batch waits at most maxWaitMs, counted from its oldest face.
    const oldest = this.#pending.find((r) => r.taken < r.count);
    const due = (oldest?.submittedAt ?? performance.now()) + this.#opts.maxWaitMs - performance.now();
    if (due <= 0) {
      this.#launch();
      this.#pump();
      return;
    }
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, due);
    }
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #launch(): void {
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
    this.#inFlight += 1;
    const started = performance.now();
    const settle = (embeddings: Float32Array | undefined, err?: unknown) => {
      this.#inFlight -= 1;
      for (const { request, from, count, at } of parts) {
        if (request.failed) continue;
        if (!embeddings) {
          request.failed = true;
          request.reject(err);
          continue;
        }
        request.out.set(embeddings.subarray(at * dims, (at + count) * dims), from * dims);
        request.done += count;
        if (request.done === request.count) request.resolve(request.out);
      }
      this.#dropSettled();
      if (embeddings) this.#opts.onBatch?.(size, performance.now() - started);
      this.#pump();
      if (this.#inFlight === 0 && this.#waitingFaces === 0) for (const cb of this.#idle.splice(0)) cb();
    };
    this.#opts.run(input, size).then(
      (embeddings) => {
        if (embeddings.length !== size * dims) settle(undefined, new Error(`model returned ${embeddings.length} floats for ${size} faces`));
        else settle(embeddings);
      },
      (err: unknown) => settle(undefined, err),
    );
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

  /** Stops accepting faces and waits until everything submitted has been embedded. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0 && this.#waitingFaces === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      this.#pump();
    });
  }
}
