export interface AuthFailureLimiterOptions {
  /** Failed attempts a client address may make per window before it is refused. @defaultValue 10 */
  maxFailures?: number;
  /** Length of the window, ms; a refused address is let in again when its window ends. @defaultValue 60000 */
  windowMs?: number;
  /** Addresses remembered at once; the oldest windows are forgotten first. @defaultValue 100000 */
  maxClients?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

/**
 * Slows token guessing: counts failed sign-ins and requests with a wrong token per client
 * address in fixed windows, and refuses an address that failed `maxFailures` times until its
 * window ends — even with the right token, so a guess that happens to be right during the
 * block teaches nothing. Requests without credentials do not count (a browser's first visit).
 * Kept in the process's memory: each service process limits on its own.
 */
export class AuthFailureLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  /** Insertion order = window start order, so the first entries are the oldest. */
  readonly #windows = new Map<string, Window>();

  constructor(options: AuthFailureLimiterOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxClients = options.maxClients ?? 100_000;
    this.#now = options.now ?? Date.now;
    if (!(this.#maxFailures >= 1) || !(this.#windowMs >= 1) || !(this.#maxClients >= 1)) throw new RangeError('limits must be positive');
  }

  /** Seconds until `client` may try again, or 0 when it is not refused. */
  retryAfterSeconds(client: string): number {
    const w = this.#current(client);
    if (!w || w.failures < this.#maxFailures) return 0;
    return Math.max(1, Math.ceil((w.start + this.#windowMs - this.#now()) / 1000));
  }

  /** Counts a failed attempt; returns true when this one reached the limit. */
  recordFailure(client: string): boolean {
    let w = this.#current(client);
    if (!w) {
      w = { start: this.#now(), failures: 0 };
      this.#windows.set(client, w);
      while (this.#windows.size > this.#maxClients) this.#windows.delete(this.#windows.keys().next().value!);
    }
    w.failures += 1;
    return w.failures === this.#maxFailures;
  }

  /** Addresses with a live window (for tests and metrics). */
  get tracked(): number {
    return this.#windows.size;
  }

  #current(client: string): Window | undefined {
    const w = this.#windows.get(client);
    if (w && this.#now() - w.start >= this.#windowMs) {
      this.#windows.delete(client);
      return undefined;
    }
    return w;
  }
}
