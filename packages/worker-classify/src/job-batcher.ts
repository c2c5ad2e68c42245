import { BatchPump } from '@facepipe/core';

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
 * never split); when a batch runs is the shared {@link BatchPump}'s rule. The classify stage uses
 * it so one face-index transaction writes many images.
 */
export class JobBatcher<T, R> {
  readonly #options: JobBatcherOptions<T, R>;
  readonly #waiting: Waiting<T, R>[] = [];
  readonly #pump: BatchPump;

  constructor(options: JobBatcherOptions<T, R>) {
    this.#options = options;
    this.#pump = new BatchPump(
      { waiting: () => this.#waiting.length, oldestAt: () => this.#waiting[0]?.at, runBatch: () => this.#runBatch() },
      { batchSize: options.batchSize, maxWaitMs: options.maxWaitMs, maxInFlight: options.maxInFlight ?? 2 },
    );
  }

  /** Items waiting for a batch (not yet running). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `item` in the next batch; settles with its own outcome. */
  submit(item: T): Promise<R> {
    if (this.#pump.closed) return Promise.reject(new Error('job batcher is closed'));
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject, at: performance.now() });
      this.#pump.pump();
    });
  }

  async #runBatch(): Promise<void> {
    const batch = this.#waiting.splice(0, this.#options.batchSize);
    const started = performance.now();
    let outcomes: PromiseSettledResult<R>[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.#options.run(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) [outcomes, failure] = [undefined, new Error(`the batch returned ${outcomes.length} outcomes for ${batch.length} items`)];
    } catch (err) {
      failure = err;
    }
    batch.forEach((w, i) => {
      const o = outcomes?.[i];
      if (!o) w.reject(failure);
      else if (o.status === 'fulfilled') w.resolve(o.value);
      else w.reject(o.reason);
    });
    if (outcomes) this.#options.onBatch?.(batch.length, performance.now() - started);
  }

  /** Stops accepting items, runs what waits at once, and resolves when every batch has finished. Idempotent. */
  close(): Promise<void> {
    return this.#pump.close();
  }
}
