import type { ManifestEntry } from '../results/documents.js';
import { objectKeys, type ObjectStore } from '../storage/index.js';

/** Lines per manifest part unless a writer says otherwise. */
export const manifestPartSize = 10_000;

/**
 * Appends a batch's inputs to its manifest in S3 as JSONL parts of `partSize` lines, so a batch
 * of millions is written and read in bounded memory. Entries are written in index order.
 */
export class BatchManifestWriter {
  #lines: string[] = [];
  #part = 0;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly store: ObjectStore,
    readonly batchId: string,
    /** Lines per part. @defaultValue 10000 */
    readonly partSize = manifestPartSize,
    /**
     * Gives the number of the next part. Where several writers (requests, a resumed ingest) add
     * to one batch's manifest, a shared counter (Redis) keeps them from overwriting each other.
     * @defaultValue 0, 1, 2… of this writer
     */
    readonly nextPart?: () => Promise<number>,
    /** Runs each part's write (the ingestor's: waits and retries while the store is full). @defaultValue runs it once */
    readonly runWrite: (what: string, write: () => Promise<void>) => Promise<void> = (_what, write) => write(),
  ) {}

  /** Adds an entry; writes a part when it is full (awaiting the write keeps memory bounded). */
  async add(entry: ManifestEntry): Promise<void> {
    this.#lines.push(JSON.stringify(entry));
    if (this.#lines.length >= this.partSize) await this.flush();
  }

  /** Writes the lines gathered so far as the next part. */
  async flush(): Promise<void> {
    if (this.#lines.length === 0) return this.#flushing;
    const body = `${this.#lines.join('\n')}\n`;
    const local = this.#part;
    this.#lines = [];
    this.#part += 1;
    this.#flushing = this.#flushing.then(async () => {
      const part = this.nextPart ? await this.nextPart() : local;
      const key = objectKeys.batchManifestPart(this.batchId, part);
      await this.runWrite(`store ${key}`, () => this.store.put(key, body, { contentType: 'application/x-ndjson' }));
    });
    return this.#flushing;
  }
}

/** Reads a batch manifest back, part by part, in index order. */
export async function* readBatchManifest(store: ObjectStore, batchId: string): AsyncIterable<ManifestEntry> {
  for await (const part of store.list(objectKeys.batchManifestPrefix(batchId))) {
    const text = (await store.getBytes(part.key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() !== '') yield JSON.parse(line) as ManifestEntry;
    }
  }
}

/**
 * The manifest entries of the given item indexes, reading only the parts that hold them (parts of
 * {@link manifestPartSize} lines, in index order); indexes not found there are read by a full scan.
 */
export async function readManifestEntries(store: ObjectStore, batchId: string, indexes: Iterable<number>): Promise<Map<number, ManifestEntry>> {
  const wanted = new Set(indexes);
  const found = new Map<number, ManifestEntry>();
  const parts = new Set([...wanted].map((i) => Math.floor(i / manifestPartSize)));
  for (const part of parts) {
    const bytes = await store.getBytes(objectKeys.batchManifestPart(batchId, part)).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'OBJECT_NOT_FOUND') return undefined;
      throw err;
    });
    for (const line of bytes?.toString('utf8').split('\n') ?? []) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as ManifestEntry;
      if (wanted.has(entry.index)) found.set(entry.index, entry);
    }
  }
  if (found.size < wanted.size) {
    for await (const entry of readBatchManifest(store, batchId)) if (wanted.has(entry.index)) found.set(entry.index, entry);
  }
  return found;
}
