/** Options of {@link BatchRates}. */
export interface BatchRatesOptions {
  /** How far back the recent rate looks. @defaultValue 60000 */
  windowMs?: number;
  /** Shortest span of samples a rate is computed from (less says nothing yet). @defaultValue 3000 */
  minSpanMs?: number;
  /** Samples closer together than this are not kept (several dashboards polling). @defaultValue 1000 */
  minGapMs?: number;
  /** A batch not sampled for this long is forgotten. @defaultValue 600000 */
  forgetAfterMs?: number;
}

interface Sample {
  at: number;
  finished: number;
}

interface Track {
  samples: Sample[];
  /** When `finished` last changed (or when the batch was first seen). */
  lastProgressAt: number;
  lastFinished: number;
  lastSeenAt: number;
}

/**
 * The recent rate of each batch, from a sliding window of (time, finished items) samples the
 * service takes whenever the dashboard asks: a rate over the last minute, not the batch's whole
 * life, so a batch that slowed down (or a one-file batch) gets an honest rate and ETA.
 */
export class BatchRates {
  readonly windowMs: number;
  readonly minSpanMs: number;
  readonly minGapMs: number;
  readonly forgetAfterMs: number;
  readonly #tracks = new Map<string, Track>();

  constructor(options: BatchRatesOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.minSpanMs = options.minSpanMs ?? 3_000;
    this.minGapMs = options.minGapMs ?? 1_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 600_000;
  }

  /**
   * Records that batch `id` had `finished` items at `now`. `startedAt` is when progress is known
   * to have begun (the batch's creation), used as the last progress of a batch first seen with none.
   */
  record(id: string, finished: number, now: number, startedAt = now): void {
    let track = this.#tracks.get(id);
    if (!track) {
      track = { samples: [], lastProgressAt: finished === 0 ? Math.min(startedAt, now) : now, lastFinished: finished, lastSeenAt: now };
      this.#tracks.set(id, track);
    }
    if (finished !== track.lastFinished) track.lastProgressAt = now;
    track.lastFinished = finished;
    track.lastSeenAt = now;
    const last = track.samples.at(-1);
    // A sample right after the last one is skipped: the next one kept carries its count.
    if (!last || now - last.at >= this.minGapMs) track.samples.push({ at: now, finished });
    // Keep one sample at or before the window's start, so the window is always covered.
    const start = now - this.windowMs;
    while (track.samples.length > 2 && track.samples[1]!.at <= start) track.samples.shift();
  }

  /** Items per second over the window; null until the samples span `minSpanMs`. */
  rate(id: string, now: number): number | null {
    const samples = this.#tracks.get(id)?.samples;
    if (!samples || samples.length < 2) return null;
    const start = now - this.windowMs;
    // The newest sample at or before the window's start, else the oldest one.
    const first = samples.findLast((s) => s.at <= start) ?? samples[0]!;
    const last = samples.at(-1)!;
    const span = last.at - first.at;
    if (span < this.minSpanMs) return null;
    return Math.max(last.finished - first.finished, 0) / (span / 1000);
  }

  /** When batch `id` last made progress, as far as the samples know; undefined when never sampled. */
  lastProgressAt(id: string): number | undefined {
    return this.#tracks.get(id)?.lastProgressAt;
  }

  /** Drops the samples of `id` (a paused batch: the rate after it resumes starts afresh). */
  reset(id: string, now: number): void {
    const track = this.#tracks.get(id);
    if (!track) return;
    track.samples = [{ at: now, finished: track.lastFinished }];
    track.lastProgressAt = now;
  }

  /** Forgets batches not sampled for `forgetAfterMs` (bounded memory). */
  prune(now: number): void {
    for (const [id, track] of this.#tracks) if (now - track.lastSeenAt > this.forgetAfterMs) this.#tracks.delete(id);
  }

  get size(): number {
    return this.#tracks.size;
  }
}
