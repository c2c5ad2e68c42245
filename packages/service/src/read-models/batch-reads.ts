import { objectKeys, type BatchTracker, type EnrollmentReport, type ObjectStore } from '@facepipe/core';
import { batchResults, toResultLine, type ResultLineOptions } from '@facepipe/producer';
import type { LibraryAccess } from '../library-access.js';
import { batchProgress, type BatchProgress } from '../progress.js';

export interface BatchReadsDeps {
  tracker: BatchTracker;
  store: ObjectStore;
  /** The face index, when DATABASE_URL names one: result lines then take names and clusters from it. */
  access: LibraryAccess;
}

/** Batches as the API shows them: recent ones, one with its progress (and enrollment report), its result lines. */
export class BatchReads {
  constructor(readonly deps: BatchReadsDeps) {}

  /** The newest `limit` batches, newest first. */
  async list(limit: number, after?: { createdAt: number; id: string }, now = Date.now()): Promise<BatchProgress[]> {
    return (await this.deps.tracker.listBatches(limit, after)).map((b) => batchProgress(b, now));
  }

  /** One batch with its progress; an enroll batch with its report once there is one. Undefined when unknown. */
  async get(id: string): Promise<(BatchProgress & { enrollment?: EnrollmentReport }) | undefined> {
    const batch = await this.deps.tracker.getBatch(id);
    if (!batch) return undefined;
    const enrollment = batch.purpose === 'enroll' ? await this.deps.store.getJson<EnrollmentReport>(objectKeys.enrollReport(batch.id)) : undefined;
    return { ...batchProgress(batch), ...(enrollment ? { enrollment } : {}) };
  }

  /**
   * A batch's result lines (NDJSON), in input order; undefined when the batch is unknown. With a
   * face index, names and clusters are the index's: the result documents may predate a cluster
   * being named or a person renamed. The index is opened before the first line, so a database
   * that does not answer fails here, not in a cut-off stream.
   */
  async resultLines(id: string, options: ResultLineOptions = {}): Promise<AsyncIterable<string> | undefined> {
    const batch = await this.deps.tracker.getBatch(id);
    if (!batch) return undefined;
    const { access, store } = this.deps;
    const index = access.configured ? (await access.library()).index : undefined;
    return (async function* () {
      for await (const { entry, result, faces } of batchResults(store, batch.id, 16, index)) yield `${JSON.stringify(toResultLine(entry, result, faces, options))}\n`;
    })();
  }
}
