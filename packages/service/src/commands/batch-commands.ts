import type { BatchTracker, Logger } from '@facepipe/core';
import { batchProgress, type BatchProgress } from '../progress.js';

/** What a client may do to a batch it uploads into. */
export class BatchCommands {
  constructor(
    readonly tracker: BatchTracker,
    readonly log: Logger,
  ) {}

  /** Closes an upload batch: it takes no more files and finishes once they are processed. Undefined when unknown. */
  async close(batchId: string): Promise<BatchProgress | undefined> {
    const total = await this.tracker.closeBatch(batchId);
    if (total === undefined) return undefined;
    this.log.info('batch closed', { batchId, total });
    const batch = await this.tracker.getBatch(batchId);
    return batch && batchProgress(batch);
  }
}
