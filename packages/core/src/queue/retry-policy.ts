/**
 * Retries measured in time, not in a count: a job failing on a transient error (S3 or a model
 * unavailable) waits base·2ⁿ, capped at `maxDelayMs`, between attempts, and gives up only once
 * the waits add up to `windowMs`. An outage of several minutes is ridden out instead of burning
 * five attempts in a few seconds.
 */
export interface RetryPolicy {
  /** Total time the waits between attempts may add up to. @defaultValue 900000 (15 min) */
  windowMs: number;
  /** Longest single wait. @defaultValue 30000 */
  maxDelayMs: number;
  /** First wait. @defaultValue 1000 */
  baseDelayMs: number;
  /** Waits are shortened by up to this fraction at random, so retries of a burst spread out. @defaultValue 0.25 */
  jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = { windowMs: 900_000, maxDelayMs: 30_000, baseDelayMs: 1000, jitter: 0.25 };

/** The wait before attempt `attemptsMade + 1`, before jitter (attemptsMade ≥ 1). */
export function retryDelayMs(attemptsMade: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, attemptsMade - 1);
  // 2^exponent overflows to Infinity for huge counts; min() keeps the cap.
  return Math.min(policy.baseDelayMs * 2 ** Math.min(exponent, 60), policy.maxDelayMs);
}

/** The wait with jitter: `random` in [0, 1) shortens it by up to `jitter`. */
export function jitteredDelayMs(attemptsMade: number, policy: RetryPolicy, random = Math.random()): number {
  return Math.round(retryDelayMs(attemptsMade, policy) * (1 - policy.jitter * random));
}

/**
 * Attempts needed so the shortest possible waits (full jitter) add up to at least the window:
 * the job is still retrying `windowMs` after its first failure, whatever the dice said.
 */
export function attemptsForWindow(policy: RetryPolicy): number {
  let waited = 0;
  let attempts = 1;
  while (waited < policy.windowMs && attempts < 10_000) {
    waited += retryDelayMs(attempts, policy) * (1 - policy.jitter);
    attempts += 1;
  }
  return attempts;
}
