import {
  batchIdPattern,
  FacepipeError,
  newBatchId,
  objectKeys,
  type BatchPurpose,
  type ErrorRecord,
  type Logger,
  type ManifestEntry,
} from '@facepipe/core';
import type { Readable } from 'node:stream';
import type { Producer } from '../producer.js';
import type { AdmitOutcome } from '../ingest/ingestor.js';
import type { IngestItem } from '../ingest/sources.js';
import { ApiError } from './api-errors.js';
import type { UploadSlots } from './upload-slots.js';

/** One part of a multipart body, as @fastify/multipart yields it. */
export type UploadPart =
  | { type: 'field'; fieldname: string; value: unknown }
  | { type: 'file'; fieldname: string; filename: string; mimetype: string; file: Readable & { truncated?: boolean } };

/** What happened to one uploaded file. */
export interface UploadedFile {
  /** The file's position in its batch. */
  index: number;
  filename: string | null;
  externalId: string | null;
  /** sha256 of the bytes: the same bytes always get the same id. */
  imageId: string | null;
  /** queued: in the pipeline now; done: a current result exists; rejected: see `error`. */
  status: 'queued' | 'done' | 'rejected';
  /** True when the same bytes were already processed or are in flight (nothing is processed twice). */
  duplicate: boolean;
  error?: ErrorRecord;
}

export interface UploadResult {
  batchId: string;
  /** Whether the batch still takes uploads (one named with `batchId` stays open until closed). */
  open: boolean;
  files: UploadedFile[];
}

export interface UploadTarget {
  purpose: BatchPurpose;
  /** Enrollment: the person every file enrolls. */
  person?: string;
}

export interface UploadsDeps {
  producer: Producer;
  slots: UploadSlots;
  /** Per-file byte limit. */
  maxBytes: number;
  log: Logger;
  /** Counts each file's outcome (metrics). */
  onFile?: (file: UploadedFile, bytes: number) => void;
}

const uploadSource = 'upload';
const externalIdPattern = /^[\x20-\x7e]{1,1024}$/;

/**
 * Receives multipart uploads into batches. Files are handled one at a time per request, each
 * read into memory (at most `maxBytes`, holding one of the shared upload slots) while it is
 * hashed, probed and admitted through the same {@link Ingestor} path as folder ingests:
 * content-addressed original, de-duplication, typed rejections, batch counts, manifest.
 *
 * Batches: an upload without `batchId` gets a new batch, closed when the request ends (it
 * finishes once its files are processed). With `batchId`, files go into that batch, created on
 * first use and left open for more uploads until `POST /v1/batches/:id/close`; an open batch
 * never counts as finished.
 */
export class Uploads {
  readonly #roomCheck: { at: number; full: boolean } = { at: 0, full: false };
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(readonly deps: UploadsDeps) {}

  /** Resolves when no upload is being received (for a graceful stop), or after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, Math.max(deadline - Date.now(), 0)))]);
    }
  }

  /** Refuses uploads (503, Retry-After) while the detect queue is over FACEPIPE_MAX_QUEUED. */
  async checkRoom(): Promise<void> {
    const now = performance.now();
    if (now - this.#roomCheck.at > 500) {
      const { producer } = this.deps;
      this.#roomCheck.full = (await producer.ctx.queues.detect.getWaitingCount()) >= producer.ctx.config.queues.maxQueued;
      this.#roomCheck.at = now;
    }
    if (this.#roomCheck.full) {
      throw new ApiError(503, 'QUEUE_FULL', 'the detect queue is full (FACEPIPE_MAX_QUEUED); retry later', { 'retry-after': '5' });
    }
  }

  receive(parts: AsyncIterable<UploadPart>, target: UploadTarget): Promise<UploadResult> {
    const running = this.#receive(parts, target);
    this.#inFlight.add(running);
    const forget = () => this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #receive(parts: AsyncIterable<UploadPart>, target: UploadTarget): Promise<UploadResult> {
    const { producer } = this.deps;
    const { tracker } = producer.ctx;
    let batchId: string | undefined;
    let closeAtEnd = true;
    let externalId: string | undefined;
    /** batch.json of a batch this request created: written while the files are received. */
    let batchDocument: Promise<void> | undefined;
    const files: UploadedFile[] = [];
    const entries: ManifestEntry[] = [];
    try {
      for await (const part of parts) {
        if (part.type === 'field') {
          const value = typeof part.value === 'string' ? part.value : '';
          if (part.fieldname === 'batchId' && target.purpose === 'ingest') {
            if (batchId !== undefined) throw new ApiError(400, 'BAD_REQUEST', 'batchId must come once, before the files');
            if (!batchIdPattern.test(value)) throw new ApiError(400, 'BAD_REQUEST', 'batchId: 1-64 letters, digits, _ or -');
            batchDocument = (await this.#openNamedBatch(value))?.written;
            batchId = value;
            closeAtEnd = false;
          } else if (part.fieldname === 'externalId') {
            if (!externalIdPattern.test(value)) throw new ApiError(400, 'BAD_REQUEST', 'externalId: 1-1024 printable ASCII characters');
            externalId = value;
          } else {
            throw new ApiError(400, 'BAD_REQUEST', `unknown field "${part.fieldname}" (expected ${target.purpose === 'ingest' ? 'batchId, ' : ''}externalId and files)`);
          }
          continue;
        }
        if (batchId === undefined) {
          batchId = newBatchId();
          batchDocument = (await this.#createBatch(batchId, target.purpose, target.person ? `upload enroll ${target.person}` : uploadSource)).written;
        }
        const index = await tracker.addOpenItem(batchId);
        if (index === undefined) {
          part.file.resume();
          throw new ApiError(409, 'BATCH_CLOSED', `batch ${batchId} is closed to uploads`);
        }
        const file = await this.#receiveFile(part, batchId, index, externalId, target.person);
        externalId = undefined;
        files.push(file);
        entries.push({
          index,
          source: sourceOf(file),
          imageId: file.imageId,
          ...(target.person ? { person: target.person } : {}),
          ...(file.error ? { error: file.error } : {}),
        });
      }
    } finally {
      if (batchId !== undefined) await Promise.all([batchDocument, this.#finishRequest(batchId, entries, closeAtEnd)]);
    }
    if (batchId === undefined || files.length === 0) throw new ApiError(400, 'NO_FILES', 'the request has no files (multipart/form-data, one part per file)');
    return { batchId, open: !closeAtEnd, files };
  }

  async #receiveFile(part: Extract<UploadPart, { type: 'file' }>, batchId: string, index: number, externalId: string | undefined, person: string | undefined): Promise<UploadedFile> {
    const { producer, slots, maxBytes, log } = this.deps;
    const filename = part.filename ? part.filename.slice(0, 1024) : null;
    const base = { index, filename, externalId: externalId ?? null };
    const source = externalId ?? filename ?? `upload-${index}`;
    let outcome: AdmitOutcome;
    let size = 0;
    await slots.acquire();
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of part.file) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size <= maxBytes) chunks.push(buffer);
      }
      const tooLarge = part.file.truncated === true || size > maxBytes;
      const bytes = tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size);
      chunks.length = 0;
      const item: IngestItem = {
        source,
        person,
        read: async () => {
          if (tooLarge) throw new FacepipeError('FILE_TOO_LARGE', `the file is over the upload limit of ${maxBytes} bytes (FACEPIPE_UPLOAD_MAX_BYTES)`);
          if (bytes.length === 0) throw new FacepipeError('EMPTY_INPUT');
          return bytes;
        },
      };
      try {
        outcome = await producer.ingestor.admit(item, batchId, index);
      } catch (err) {
        // S3 or Redis trouble: count the item as failed so the batch can still finish, then answer 503.
        const error = FacepipeError.from(err);
        await producer.ctx.tracker.markItem(batchId, index, { kind: 'failed', code: error.code }).catch(() => undefined);
        throw error;
      }
    } finally {
      slots.release();
    }
    await producer.ingestor.flush();
    const file: UploadedFile =
      outcome.kind === 'rejected'
        ? { ...base, imageId: outcome.imageId, status: 'rejected', duplicate: false, error: outcome.error.toRecord() }
        : { ...base, imageId: outcome.imageId, status: outcome.kind === 'cached' ? 'done' : 'queued', duplicate: outcome.kind !== 'queued' };
    log.info('image uploaded', { batchId, imageId: file.imageId, status: file.status, duplicate: file.duplicate, ...(file.error ? { code: file.error.code } : {}), bytes: size });
    this.deps.onFile?.(file, size);
    return file;
  }

  /** Uses an open upload batch, or creates it under the name the client chose. */
  async #openNamedBatch(batchId: string): Promise<{ written: Promise<void> } | undefined> {
    const batch = await this.deps.producer.ctx.tracker.getBatch(batchId);
    if (!batch) return this.#createBatch(batchId, 'ingest', uploadSource);
    if (batch.source !== uploadSource || batch.ingested) throw new ApiError(409, 'BATCH_CLOSED', `batch ${batchId} is ${batch.source !== uploadSource ? 'not an upload batch' : 'closed to uploads'}`);
    return undefined;
  }

  /** Creates the batch in Redis; returns the write of its batch.json, to await before answering. */
  async #createBatch(batchId: string, purpose: BatchPurpose, source: string): Promise<{ written: Promise<void> }> {
    const { tracker, store } = this.deps.producer.ctx;
    await tracker.createBatch(batchId, purpose, source);
    const written = store.putJson(objectKeys.batch(batchId), { id: batchId, purpose, source, createdAt: new Date().toISOString() });
    written.catch(() => undefined); // awaited (and its error seen) at the end of the request
    return { written };
  }

  /**
   * Writes this request's manifest lines as one part of the batch manifest (parts are numbered
   * across requests through Redis, so concurrent uploads never overwrite each other's), then
   * closes the batch when the request created it.
   */
  async #finishRequest(batchId: string, entries: ManifestEntry[], close: boolean): Promise<void> {
    const { ctx } = this.deps.producer;
    if (entries.length > 0) {
      const part = (await ctx.redis.incr(`${ctx.config.redis.prefix}:upload-manifest-part:${batchId}`)) - 1;
      entries.sort((a, b) => a.index - b.index);
      const body = `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;
      await ctx.store.put(objectKeys.batchManifestPart(batchId, part), body, { contentType: 'application/x-ndjson' });
    }
    if (close) await ctx.tracker.closeBatch(batchId);
  }
}

function sourceOf(file: UploadedFile): string {
  return file.externalId ?? file.filename ?? `upload-${file.index}`;
}
