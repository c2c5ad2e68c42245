export interface JobBatcherOptions<T, R> {
  /** Items per batch; a batch runs as soon as this many wait. @defaultValue 16 */
  batchSize: number;
  /** Longest the oldest waiting item waits for a batch to fill before a smaller batch runs. @defaultValue 20 */
  maxWaitMs: number;
  /** Batches running at once (the next one's inputs load while one writes). @defaultValue 2 */
  maxInFlight?: number;
  /** Runs one batch: one outcome per item, in the items' order. */
  run: (items: T[]) => Promise<PromiseSettledResult<R>[]>;
  /** Called after each batch with its size and duration (metrics). */
  onBatch?: (size: number, ms: number) => void;
}

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
  at: number;
}

/**
 * Gathers items from many concurrent jobs into micro-batches, each item keeping its own outcome
 * (the embed stage's MicroBatcher does the same for faces, split across batches; here an item is
 * never split): a batch runs when `batchSize` items wait, or when the oldest has waited
 * `maxWaitMs`. The classify stage uses it so one face-index transaction writes many images.
 */
export class JobBatcher<T, R> {
  readonly #opts: Required<Omit<JobBatcherOptions<T, R>, 'onBatch'>> & Pick<JobBatcherOptions<T, R>, 'onBatch'>;
  readonly #waiting: Waiting<T, R>[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(options: JobBatcherOptions<T, R>) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError('batchSize must be a whole number of at least 1');
    this.#opts = { maxInFlight: 2, ...options };
  }

  /** Items waiting for a batch (not yet running). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `item` in the next batch; settles with its own outcome. */
  submit(item: T): Promise<R> {
    if (this.#closed) return Promise.reject(new Error('job batcher is closed'));
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject, at: performance.now() });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#opts.maxInFlight && this.#waiting.length >= this.#opts.batchSize) this.#launch();
    if (this.#waiting.length === 0 || this.#inFlight >= this.#opts.maxInFlight) {
      this.#clearTimer();
      return;
    }
    // A partial batch waits at most maxWaitMs from its oldest item (none once closing).
    const due = this.#closed ? 0 : this.#waiting[0]!.at + this.#opts.maxWaitMs - performance.now();
    if (due <= 0) {
      this.#launch();
      this.#pump();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, due);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #launch(): void {
    const batch = this.#waiting.splice(0, this.#opts.batchSize);
    this.#inFlight += 1;
    const started = performance.now();
    const settle = (outcomes: PromiseSettledResult<R>[] | undefined, err?: unknown) => {
      this.#inFlight -= 1;
      batch.forEach((w, i) => {
        const o = outcomes?.[i];
        if (!o) w.reject(err);
        else if (o.status === 'fulfilled') w.resolve(o.value);
        else w.reject(o.reason);
      });
      if (outcomes) this.#opts.onBatch?.(batch.length, performance.now() - started);
      this.#pump();
      if (this.#inFlight === 0 && this.#waiting.length === 0) for (const cb of this.#idle.splice(0)) cb();
    };
    this.#opts.run(batch.map((w) => w.item)).then(
      (outcomes) =>
        outcomes.length === batch.length ? settle(outcomes) : settle(undefined, new Error(`the batch returned ${outcomes.length} outcomes for ${batch.length} items`)),
      (err: unknown) => settle(undefined, err),
    );
  }

  /** Stops accepting items, runs what waits at once, and resolves when every batch has finished. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0 && this.#waiting.length === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      this.#pump();
    });
  }
}
