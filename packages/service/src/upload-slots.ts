/**
 * A first-come-first-served counting semaphore: how many uploaded files may sit in memory at
 * once, across all requests. A request waiting for a slot does not read its body, so TCP
 * backpressure slows the client instead of memory growing.
 */
export class UploadSlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('slots must be a positive integer');
    this.#free = size;
  }

  get available(): number {
    return this.#free;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  acquire(): Promise<void> {
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free = Math.min(this.#free + 1, this.size);
  }

  /** Runs `fn` holding a slot. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
