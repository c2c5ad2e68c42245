import {
  batchIdPattern,
  describeDisk,
  FacepipeError,
  newBatchId,
  type BatchPurpose,
  type DiskReading,
  type ErrorRecord,
  type IntakeBatch,
  type Logger,
  type StageName,
} from '@facepipe/core';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import type { Producer } from '@facepipe/producer';
import type { AdmitOutcome } from '@facepipe/producer';
import type { IngestItem } from '@facepipe/producer';
import { ApiError } from './api-errors.js';
import { MemoryBudget } from './memory-budget.js';
import { RequestSpool, type SpooledBytes } from './request-spool.js';
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
  /** Where request files that do not fit `memory` wait until the whole request is accepted. @defaultValue os.tmpdir() */
  spoolDir?: string;
  /** Bytes of request files held in memory while their requests are read, all requests together. @defaultValue 64 MiB */
  spoolMemory?: MemoryBudget;
}

/** A file of a request being read, kept until the request is accepted. */
interface SpooledFile extends SpooledBytes {
  filename: string | null;
  externalId: string | undefined;
}

interface ReadRequest {
  batchId: string | undefined;
  files: SpooledFile[];
}

/** A multipart parse error without a status of its own (busboy's) becomes 400 BAD_MULTIPART; Fastify's keep theirs. */
function multipartError(err: unknown): unknown {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; syscall?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('FST_')) return err;
  if (typeof e.syscall === 'string') return err; // the temp dir failing (ENOSPC…): ours, not the client's
  if (typeof e.statusCode === 'number') return err;
  return new ApiError(400, 'BAD_MULTIPART', `the multipart body could not be read: ${typeof e.message === 'string' ? e.message : String(err)}`);
}

const uploadSource = 'upload';
const externalIdPattern = /^[\x20-\x7e]{1,1024}$/;

/**
 * Receives multipart uploads into batches, validating first: every part is read (files spooled
 * to a private temp dir, at most `maxBytes` each) and checked before anything is stored or
 * queued, so a refused request (413 TOO_MANY_FILES, 400, 409) leaves no trace. Then each file
 * is read back into memory (holding one of the shared upload slots) while it is hashed, probed
 * and admitted through the same {@link Ingestor} path as folder ingests: content-addressed
 * original, de-duplication, typed rejections, batch counts, manifest. The temp files are
 * always removed.
 *
 * Batches: an upload without `batchId` gets a new batch, closed when the request ends (it
 * finishes once its files are processed). With `batchId`, files go into that batch, created on
 * first use and left open for more uploads until `POST /v1/batches/:id/close`; an open batch
 * never counts as finished.
 */
export class Uploads {
  readonly #roomCheck: { at: number; heldBackBy: StageName[]; diskFull: DiskReading[] } = { at: 0, heldBackBy: [], diskFull: [] };
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #memory: MemoryBudget;

  constructor(readonly deps: UploadsDeps) {
    this.#memory = deps.spoolMemory ?? new MemoryBudget(64 * 1024 * 1024);
  }

  /** Resolves when no upload is being received (for a graceful stop), or after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, Math.max(deadline - Date.now(), 0)))]);
    }
  }

  /**
   * Refuses uploads (503, Retry-After) while admission is held back, as for every other intake:
   * QUEUE_FULL while any stage's waiting jobs are at its bound (FACEPIPE_MAX_QUEUED, _EMBED,
   * _CLASSIFY), STORAGE_FULL while a data dir is full (FACEPIPE_DISK_FULL_FREE_MB).
   */
  async checkRoom(): Promise<void> {
    const now = performance.now();
    if (now - this.#roomCheck.at > 500) {
      const { heldBackBy, diskFull } = await this.deps.producer.ctx.gate.state();
      Object.assign(this.#roomCheck, { heldBackBy, diskFull, at: now });
    }
    const full = this.#roomCheck.diskFull[0];
    if (full !== undefined) throw new ApiError(503, 'STORAGE_FULL', describeDisk(full), { 'retry-after': '30' });
    const stage = this.#roomCheck.heldBackBy[0];
    if (stage !== undefined) {
      const setting = stage === 'detect' ? 'FACEPIPE_MAX_QUEUED' : `FACEPIPE_MAX_QUEUED_${stage.toUpperCase()}`;
      throw new ApiError(503, 'QUEUE_FULL', `the ${stage} queue is full (${setting}); retry later`, { 'retry-after': '5' });
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
    const spool = new RequestSpool(this.deps.spoolDir ?? tmpdir(), this.#memory, this.deps.maxBytes);
    try {
      // Validate first: the whole request is read and checked before anything is stored or queued.
      const request = await this.#read(parts, target, spool);
      return await this.#admit(request, target, spool);
    } finally {
      await spool.close();
    }
  }

  /** Reads every part, keeping the files in `spool`; throws (having changed nothing) on any request error. */
  async #read(parts: AsyncIterable<UploadPart>, target: UploadTarget, spool: RequestSpool): Promise<ReadRequest> {
    const { slots } = this.deps;
    let batchId: string | undefined;
    let externalId: string | undefined;
    const files: SpooledFile[] = [];
    const iterator = parts[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<UploadPart>;
      try {
        next = await iterator.next();
      } catch (err) {
        throw multipartError(err);
      }
      if (next.done) break;
      const part = next.value;
      if (part.type === 'field') {
        const value = typeof part.value === 'string' ? part.value : '';
        if (part.fieldname === 'batchId' && target.purpose === 'ingest') {
          if (batchId !== undefined || files.length > 0) throw new ApiError(400, 'BAD_REQUEST', 'batchId must come once, before the files');
          if (!batchIdPattern.test(value)) throw new ApiError(400, 'BAD_REQUEST', 'batchId: 1-64 letters, digits, _ or -');
          await this.#checkNamedBatch(value);
          batchId = value;
        } else if (part.fieldname === 'externalId') {
          if (!externalIdPattern.test(value)) throw new ApiError(400, 'BAD_REQUEST', 'externalId: 1-1024 printable ASCII characters');
          externalId = value;
        } else {
          throw new ApiError(400, 'BAD_REQUEST', `unknown field "${part.fieldname}" (expected ${target.purpose === 'ingest' ? 'batchId, ' : ''}externalId and files)`);
        }
        continue;
      }
      let stored: SpooledBytes;
      // A slot per file being read bounds the reading going on at once; waiting for one
      // leaves the body unread, so TCP backpressure slows the client.
      await slots.acquire();
      try {
        stored = await spool.store(part.file);
      } catch (err) {
        throw multipartError(err);
      } finally {
        slots.release();
      }
      const tooLarge = stored.tooLarge || part.file.truncated === true;
      files.push({ ...stored, tooLarge, filename: part.filename ? part.filename.slice(0, 1024) : null, externalId });
      externalId = undefined;
    }
    if (files.length === 0) throw new ApiError(400, 'NO_FILES', 'the request has no files (multipart/form-data, one part per file)');
    return { batchId, files };
  }

  /** Admits a validated request's files into their batch (created here, not before). */
  async #admit(request: ReadRequest, target: UploadTarget, spool: RequestSpool): Promise<UploadResult> {
    const closeAtEnd = request.batchId === undefined;
    const batchId = request.batchId ?? newBatchId();
    let batch: IntakeBatch | undefined;
    const files: UploadedFile[] = [];
    try {
      batch = closeAtEnd
        ? await this.#createBatch(batchId, target.purpose, target.person ? `upload enroll ${target.person}` : uploadSource)
        : await this.#openNamedBatch(batchId);
      for (const spooled of request.files) {
        const index = await batch.addOpenItem();
        if (index === undefined) throw new ApiError(409, 'BATCH_CLOSED', `batch ${batchId} is closed to uploads`);
        const file = await this.#admitFile(spooled, spool, batch, index, target.person);
        files.push(file);
        // One manifest part per request (numbered across requests through Redis).
        await batch.record({
          index,
          source: sourceOf(file),
          imageId: file.imageId,
          ...(target.person ? { person: target.person } : {}),
          ...(file.error ? { error: file.error } : {}),
        });
      }
    } finally {
      if (batch) await Promise.all([batch.documentWritten, closeAtEnd ? batch.close() : batch.flush()]);
    }
    return { batchId, open: !closeAtEnd, files };
  }

  async #admitFile(spooled: SpooledFile, spool: RequestSpool, batch: IntakeBatch, index: number, person: string | undefined): Promise<UploadedFile> {
    const { batchId } = batch;
    const { producer, slots, maxBytes, log } = this.deps;
    const { filename, externalId, tooLarge, size } = spooled;
    const base = { index, filename, externalId: externalId ?? null };
    const source = externalId ?? filename ?? `upload-${index}`;
    let outcome: AdmitOutcome;
    await slots.acquire();
    try {
      const item: IngestItem = {
        source,
        person,
        read: async () => {
          if (tooLarge) throw new FacepipeError('FILE_TOO_LARGE', `the file is over the upload limit of ${maxBytes} bytes (FACEPIPE_UPLOAD_MAX_BYTES)`);
          if (size === 0) throw new FacepipeError('EMPTY_INPUT');
          return spool.read(spooled);
        },
      };
      try {
        outcome = await producer.ingestor.admit(item, batch, index);
      } catch (err) {
        // S3 or Redis trouble: count the item as failed so the batch can still finish, then answer 503.
        const error = FacepipeError.from(err);
        await producer.ctx.tracker.markItem(batchId, index, { kind: 'failed', code: error.code }).catch(() => undefined);
        throw error;
      }
    } finally {
      slots.release();
    }
    await batch.flushJobs();
    const file: UploadedFile =
      outcome.kind === 'rejected'
        ? { ...base, imageId: outcome.imageId, status: 'rejected', duplicate: false, error: outcome.error.toRecord() }
        : { ...base, imageId: outcome.imageId, status: outcome.kind === 'cached' ? 'done' : 'queued', duplicate: outcome.kind !== 'queued' };
    log.info('image uploaded', { batchId, imageId: file.imageId, status: file.status, duplicate: file.duplicate, ...(file.error ? { code: file.error.code } : {}), bytes: size });
    this.deps.onFile?.(file, size);
    return file;
  }

  /** Refuses (409) a batch name that exists and is not an open upload batch; changes nothing. */
  async #checkNamedBatch(batchId: string): Promise<void> {
    const batch = await this.deps.producer.ctx.tracker.getBatch(batchId);
    if (batch && (batch.source !== uploadSource || batch.ingested)) {
      throw new ApiError(409, 'BATCH_CLOSED', `batch ${batchId} is ${batch.source !== uploadSource ? 'not an upload batch' : 'closed to uploads'}`);
    }
  }

  /** Uses an open upload batch, or creates it under the name the client chose. */
  async #openNamedBatch(batchId: string): Promise<IntakeBatch> {
    const batch = await this.deps.producer.ctx.tracker.getBatch(batchId);
    if (!batch) return this.#createBatch(batchId, 'ingest', uploadSource);
    if (batch.source !== uploadSource || batch.ingested) throw new ApiError(409, 'BATCH_CLOSED', `batch ${batchId} is ${batch.source !== uploadSource ? 'not an upload batch' : 'closed to uploads'}`);
    return this.deps.producer.intake.batch(batchId);
  }

  /** Creates the batch; its batch.json is written while the files are admitted (awaited before answering). */
  #createBatch(batchId: string, purpose: BatchPurpose, source: string): Promise<IntakeBatch> {
    return this.deps.producer.intake.create(batchId, purpose, source, { awaitDocument: false });
  }
}

function sourceOf(file: UploadedFile): string {
  return file.externalId ?? file.filename ?? `upload-${file.index}`;
}
