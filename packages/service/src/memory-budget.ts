/**
 * Bytes that may be held in memory at once, all holders together; never waits: a holder that
 * cannot reserve more does something else (an upload goes to its temp file).
 */
export class MemoryBudget {
  #free: number;

  constructor(readonly bytes: number) {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError('a memory budget is a number of bytes, 0 or more');
    this.#free = bytes;
  }

  get available(): number {
    return this.#free;
  }

  /** Takes `n` bytes when that many are free. */
  tryReserve(n: number): boolean {
    if (n > this.#free) return false;
    this.#free -= n;
    return true;
  }

  release(n: number): void {
    this.#free = Math.min(this.#free + n, this.bytes);
  }
}
