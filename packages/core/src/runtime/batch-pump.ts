/** When a micro-batch runs. */
export interface BatchPumpOptions {
  /** Units (jobs, faces) per batch: a batch runs as soon as this many wait. */
  batchSize: number;
  /** Longest the oldest waiting unit waits for a batch to fill before a smaller batch runs. */
  maxWaitMs: number;
  /** Batches running at once. */
  maxInFlight: number;
}

/** What a pump batches: the micro-batcher that owns the waiting units and knows how to run them. */
export interface BatchSource {
  /** Units waiting for a batch (not yet running). */
  waiting(): number;
  /** When the oldest waiting unit arrived (`performance.now()`), undefined when none waits. */
  oldestAt(): number | undefined;
  /** Takes up to `batchSize` waiting units and runs them; settles once they have their outcomes. */
  runBatch(): Promise<void>;
}

/**
 * The timing every micro-batcher shares (the embed stage's faces, the classify stage's jobs): a
 * batch runs when `batchSize` units wait, or when the oldest has waited `maxWaitMs`, with at most
 * `maxInFlight` batches running; once closing, what waits runs at once. The source decides what a
 * unit is and how a batch is put together and settled.
 */
export class BatchPump {
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(
    readonly source: BatchSource,
    readonly options: BatchPumpOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError('batchSize must be a whole number of at least 1');
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError('maxInFlight must be a whole number of at least 1');
  }

  /** True once `close` was called: the owner refuses new units. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs what is due; call it whenever units arrive. */
  pump(): void {
    const { batchSize, maxInFlight, maxWaitMs } = this.options;
    while (this.#inFlight < maxInFlight && this.source.waiting() >= batchSize) this.#launch();
    if (this.source.waiting() === 0 || this.#inFlight >= maxInFlight) {
      this.#clearTimer();
      return;
    }
    // A partial batch waits at most maxWaitMs from its oldest unit (none once closing).
    const due = this.#closed ? 0 : (this.source.oldestAt() ?? performance.now()) + maxWaitMs - performance.now();
    if (due <= 0) {
      this.#launch();
      this.pump();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.pump();
    }, due);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #launch(): void {
    this.#inFlight += 1;
    const done = () => {
      this.#inFlight -= 1;
      this.pump();
      if (this.#inFlight === 0 && this.source.waiting() === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
    this.source.runBatch().then(done, done);
  }

  /** Stops the owner taking units, runs what waits at once, and resolves when every batch has finished. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0 && this.source.waiting() === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      this.pump();
    });
  }
}
