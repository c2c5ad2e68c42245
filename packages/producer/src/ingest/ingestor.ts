import { createHash } from 'node:crypto';
import { FacepipeError, objectKeys, readBatchManifest, type BatchIntake, type BatchPurpose, type IntakeBatch, type Logger, type ManifestEntry, type ObjectStore } from '@facepipe/core';
import type { IngestItem } from './sources.js';

/** What happened to one input at ingest. */
export type AdmitOutcome =
  | { kind: 'queued'; imageId: string }
  /** The same bytes are in flight for another batch; this item completes with them. */
  | { kind: 'attached'; imageId: string }
  /** A current result already exists (same bytes, same model versions): nothing to do. */
  | { kind: 'cached'; imageId: string; faces: number }
  | { kind: 'rejected'; imageId: string | null; error: FacepipeError };

export interface IngestorDeps {
  /** Where every entry path creates batches, claims images and queues them (backpressure included). */
  intake: BatchIntake;
  store: ObjectStore;
  log: Logger;
  /** Reads an image header: format and size, or a typed error (NOT_AN_IMAGE, IMAGE_TOO_LARGE…). */
  probe: (bytes: Uint8Array) => Promise<unknown>;
  maxBytes: number;
}

export interface IngestOptions {
  batchId: string;
  purpose: BatchPurpose;
  /** Describes the batch's input (a folder, an s3:// URL). */
  sourceLabel: string;
  /** Inputs read and hashed at once. @defaultValue 8 */
  concurrency?: number;
  /** Re-process even when a current result exists. @defaultValue false */
  force?: boolean;
  /** Called after each input with the running count. */
  onItem?: (count: number, outcome: AdmitOutcome) => void;
  /** Detect jobs added per Redis round trip. @defaultValue 50 */
  bulkSize?: number;
  /** Called once the batch exists (after the first input was read), before anything waits. */
  onBatch?: (batchId: string) => void;
}

/**
 * The producer: stores each input under its content hash, then queues only what needs work, all
 * through the {@link BatchIntake}. It streams its inputs with bounded concurrency, writes the
 * batch manifest as it goes, and holds back while any stage's backlog is at its bound, so a
 * million-photo import uses bounded memory here and in Redis.
 */
export class Ingestor {
  constructor(readonly deps: IngestorDeps) {}

  /** Ingests a stream of inputs as one batch; resolves when every input has been admitted. */
  async ingest(items: AsyncIterable<IngestItem>, options: IngestOptions): Promise<{ batchId: string; total: number }> {
    const iterator = items[Symbol.asyncIterator]();
    // The first input is read before the batch exists: a source that cannot be read at all (a
    // missing folder, a refused listing) fails here and leaves no open, empty batch behind.
    const first = await iterator.next();
    // The batch exists (and is shown) at once; its document in S3 may wait while the store is
    // full, and admission with it.
    const batch = await this.deps.intake.create(options.batchId, options.purpose, options.sourceLabel, { awaitDocument: false });
    options.onBatch?.(options.batchId);
    await batch.documentWritten;
    const { total } = await batch.leased(() => this.#admitAll(iterator, first, batch, options, undefined));
    return { batchId: options.batchId, total };
  }

  /**
   * Continues a batch whose admission was cut short (the process killed, Redis or S3 gone):
   * admits only the inputs its manifest does not list. Items counted before the cut but never
   * written to the manifest are given to the first missing inputs, so the batch ends with one
   * result per input; any left over (inputs gone since) are failed as OBJECT_NOT_FOUND.
   */
  async resume(items: AsyncIterable<IngestItem>, options: IngestOptions): Promise<{ batchId: string; total: number; resumed: number }> {
    const batch = this.deps.intake.batch(options.batchId);
    const info = await this.deps.intake.deps.tracker.getBatch(options.batchId);
    if (!info) throw new FacepipeError('OBJECT_NOT_FOUND', `batch ${options.batchId} does not exist`);
    return batch.leased(async () => {
      const listed = new Set<string>();
      const indexes = new Set<number>();
      for await (const entry of readBatchManifest(this.deps.store, options.batchId)) {
        listed.add(entry.source);
        indexes.add(entry.index);
      }
      const holes: number[] = [];
      for (let i = 0; i < info.total; i += 1) if (!indexes.has(i)) holes.push(i);
      options.onBatch?.(options.batchId);
      const iterator = items[Symbol.asyncIterator]();
      const missing: AsyncIterator<IngestItem> = {
        next: async () => {
          for (;;) {
            const next = await iterator.next();
            if (next.done || !listed.has(next.value.source)) return next;
          }
        },
      };
      const first = await missing.next();
      const { total, admitted } = await this.#admitAll(missing, first, batch, options, { holes, total: info.total });
      this.deps.log.info('batch resumed', { batchId: options.batchId, admitted, total });
      return { batchId: options.batchId, total, resumed: admitted };
    });
  }

  async #admitAll(
    iterator: AsyncIterator<IngestItem>,
    firstItem: IteratorResult<IngestItem>,
    batch: IntakeBatch,
    options: IngestOptions,
    resume: { holes: number[]; total: number } | undefined,
  ): Promise<{ batchId: string; total: number; admitted: number }> {
    let first: IteratorResult<IngestItem> | undefined = firstItem;
    const done = new Map<number, ManifestEntry>();
    let nextToWrite = 0;
    let nextIndex = resume?.total ?? 0;
    let admitted = 0;
    let exhausted = false;
    let stopped = false;
    const take = async (): Promise<{ item: IngestItem; index: number } | undefined> => {
      if (exhausted || stopped) return undefined;
      const next = first ?? (await iterator.next());
      first = undefined;
      if (next.done) {
        exhausted = true;
        return undefined;
      }
      const hole = resume?.holes.shift();
      return { item: next.value, index: hole ?? nextIndex++ };
    };
    const lane = async () => {
      for (let got = await take(); got; got = await take()) {
        const { item, index } = got;
        if (index >= (resume?.total ?? 0)) await batch.addItem();
        const outcome = await this.admit(item, batch, index, options);
        const entry: ManifestEntry = {
          index,
          source: item.source,
          imageId: outcome.imageId,
          ...(item.person ? { person: item.person } : {}),
          ...(outcome.kind === 'rejected' ? { error: outcome.error.toRecord() } : {}),
        };
        if (resume) {
          await batch.record(entry); // a resumed batch's lines go out as they come
        } else {
          // Manifest lines go out in index order, whatever order the lanes finish in. Each entry is
          // taken and the cursor moved before awaiting, so two lanes never write the same entry
          // (nor skip the next one).
          done.set(index, entry);
          while (done.has(nextToWrite)) {
            const next = done.get(nextToWrite)!;
            done.delete(nextToWrite);
            nextToWrite += 1;
            await batch.record(next);
          }
        }
        admitted += 1;
        options.onItem?.(admitted, outcome);
      }
    };
    // One lane failing (S3 or Redis gone) stops the others before they take more inputs; the
    // batch stays not fully admitted (resumable) and nothing runs on after the error is thrown.
    const lanes = await Promise.allSettled(
      Array.from({ length: options.concurrency ?? 8 }, () =>
        lane().catch((err: unknown) => {
          stopped = true;
          throw err;
        }),
      ),
    );
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) {
      // What was admitted is queued and listed (best effort: the store or Redis may be gone), so
      // a resume finds those inputs in flight instead of claimed with no job.
      await batch.flushJobs().catch(() => undefined);
      await batch.manifest.flush().catch(() => undefined);
      throw failed.reason;
    }
    // Items counted before a cut whose inputs are gone now: failed, so the batch can finish.
    for (const index of resume?.holes ?? []) {
      const error = new FacepipeError('OBJECT_NOT_FOUND', 'the input was gone when its batch was resumed');
      await this.deps.intake.deps.tracker.markItem(batch.batchId, index, { kind: 'failed', code: error.code });
      await batch.record({ index, source: `(input ${index}, gone)`, imageId: null, error: error.toRecord() });
    }
    await batch.finish(nextIndex);
    this.deps.log.info('batch ingested', { batchId: batch.batchId, total: nextIndex });
    return { batchId: batch.batchId, total: nextIndex, admitted };
  }

  /**
   * Admits one input into batch item `index`: hash, validate the header, store the original
   * (once per content), and queue it unless a current result exists or the same bytes are
   * already in flight. Bad input is rejected here with its typed reason and counted as failed.
   */
  async admit(item: IngestItem, batch: IntakeBatch, index: number, options: Pick<IngestOptions, 'force' | 'bulkSize'> = {}): Promise<AdmitOutcome> {
    const { store } = this.deps;
    let imageId: string | null = null;
    try {
      const bytes = await item.read(this.deps.maxBytes);
      imageId = createHash('sha256').update(bytes).digest('hex');
      await this.deps.probe(bytes);
      const claim = await batch.claim(imageId, index, { force: options.force });
      if (claim.kind === 'cached') return { kind: 'cached', imageId, faces: claim.faces };
      const originalKey = objectKeys.original(imageId);
      const storeOriginal = () =>
        this.deps.intake.whileStorageFull(`store ${originalKey}`, () =>
          item.s3 ? store.copyFrom(item.s3.bucket, item.s3.key, originalKey) : store.put(originalKey, bytes, { contentLength: bytes.length }),
        );
      if (claim.kind === 'attached') {
        // The same bytes are in flight; their job may be retrying because the original went
        // missing (STORED_OBJECT_MISSING): these bytes repair it.
        if ((await store.head(originalKey)) === undefined) await storeOriginal();
        return { kind: 'attached', imageId };
      }
      if (!claim.haveOriginal) await storeOriginal();
      await batch.enqueueDetect({ imageId, originalKey, source: item.source }, options.bulkSize);
      return { kind: 'queued', imageId };
    } catch (err) {
      const error = FacepipeError.from(err);
      if (error.retryable) throw error; // S3/Redis trouble: stop the ingest, it can be re-run safely.
      await this.deps.intake.deps.tracker.markItem(batch.batchId, index, { kind: 'failed', code: error.code });
      this.deps.log.info('input rejected', { batchId: batch.batchId, source: item.source, code: error.code, err: error.message });
      return { kind: 'rejected', imageId, error };
    }
  }
}
