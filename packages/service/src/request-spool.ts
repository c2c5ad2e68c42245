import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryBudget } from './memory-budget.js';

/** A file of a request being read: in memory or in the request's temp dir, until the request is accepted. */
export interface SpooledBytes {
  size: number;
  /** Over the byte limit: nothing was kept. */
  tooLarge: boolean;
  bytes?: Buffer;
  path?: string;
}

/**
 * Where one request's files wait while the rest of the request is read. Small files stay in
 * memory as long as the shared {@link MemoryBudget} has room (a file system round trip per
 * small file would cost more than the file); a file that does not fit goes to a private temp
 * dir, made on first need (mode 0700, files 0600). `close()` frees the memory and removes the
 * dir; idempotent.
 */
export class RequestSpool {
  #dir: string | undefined;
  #files = 0;
  #reserved = 0;
  #closing: Promise<void> | undefined;

  constructor(
    readonly parentDir: string,
    readonly memory: MemoryBudget,
    /** Bytes kept per file at most; past that the file is only counted. */
    readonly maxBytes: number,
  ) {}

  /** Reads one file part to its end. */
  async store(file: AsyncIterable<unknown>): Promise<SpooledBytes> {
    let size = 0;
    let chunks: Buffer[] | undefined = [];
    let held = 0;
    let handle: FileHandle | undefined;
    let path: string | undefined;
    const forget = () => {
      chunks = undefined;
      this.#release(held);
      held = 0;
    };
    try {
      for await (const chunk of file) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > this.maxBytes) {
          forget();
          continue;
        }
        if (chunks && handle === undefined && this.memory.tryReserve(buffer.length)) {
          this.#reserved += buffer.length;
          held += buffer.length;
          chunks.push(buffer);
          continue;
        }
        if (handle === undefined) {
          path = await this.#nextPath();
          handle = await open(path, 'wx', 0o600);
          for (const kept of chunks ?? []) await handle.write(kept);
          forget();
        }
        await handle.write(buffer);
      }
    } finally {
      await handle?.close();
    }
    if (size > this.maxBytes) return { size, tooLarge: true };
    if (path !== undefined) return { size, tooLarge: false, path };
    return { size, tooLarge: false, bytes: Buffer.concat(chunks ?? [], size) };
  }

  /** The bytes of a stored file. */
  async read(spooled: SpooledBytes): Promise<Buffer> {
    if (spooled.bytes) return spooled.bytes;
    if (spooled.path !== undefined) return readFile(spooled.path);
    return Buffer.alloc(0);
  }

  /** Whether a temp dir was made (for tests and logs). */
  get onDisk(): boolean {
    return this.#dir !== undefined;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#release(this.#reserved);
      if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }

  #release(n: number): void {
    const amount = Math.min(n, this.#reserved);
    this.#reserved -= amount;
    this.memory.release(amount);
  }

  async #nextPath(): Promise<string> {
    this.#dir ??= await mkdtemp(join(this.parentDir, 'facepipe-upload-'));
    const path = join(this.#dir, String(this.#files));
    this.#files += 1;
    return path;
  }
}
