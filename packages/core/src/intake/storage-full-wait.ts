import { FacepipeError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';

/**
 * Runs `write`; while it fails with STORAGE_FULL (a full disk under S3 or Redis), admission
 * pauses and tries again with a growing wait (250 ms doubling to 5 s), up to `waitMs`: nothing
 * is admitted half, and the ingest goes on by itself once space is freed.
 */
export async function whileStorageFull(log: Logger, what: string, write: () => Promise<unknown>, waitMs = 900_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (let paused = false; ; ) {
    try {
      await write();
      if (paused) log.warn('admission resumed: the store takes writes again', { what });
      return;
    } catch (err) {
      const error = FacepipeError.from(err);
      if (error.code !== 'STORAGE_FULL' || Date.now() + delay > deadline) throw error;
      if (!paused) log.warn('admission paused: a store is out of space; free space and it goes on', { what, err: error.message });
      paused = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
