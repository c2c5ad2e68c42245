import { closeSync, openSync, write, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * A log file that a full disk cannot crash: lines that do not fit are dropped and counted (a
 * note says how much once writing works again), and no 'error' event is ever emitted. Node's
 * own `fs.WriteStream` (and `process.stderr` on a file) emits an 'error' on ENOSPC that, with no
 * listener, kills the process — and with it every service the process runs.
 */
export class LogFile extends Writable {
  readonly #fd: number;
  #droppedBytes = 0;
  #droppedSince: number | undefined;
  #closed = false;

  /** Opens `path` for appending, or writes to an already open descriptor (2 = stderr). */
  constructor(target: string | number) {
    super({ decodeStrings: true });
    this.#fd = typeof target === 'number' ? target : openSync(target, 'a');
  }

  /** Bytes dropped because the disk was full (or read-only) since this file was opened. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Appends a line without waiting (for a log sink); never throws. */
  writeLine(line: string): void {
    if (this.#closed) return;
    const bytes = Buffer.from(`${this.#pendingNote()}${line}\n`);
    try {
      writeSync(this.#fd, bytes);
    } catch (err) {
      this.#drop(bytes.length, err);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#closed) return callback();
    const bytes = this.#droppedSince === undefined ? chunk : Buffer.concat([Buffer.from(this.#pendingNote()), chunk]);
    write(this.#fd, bytes, (err) => {
      if (err) this.#drop(bytes.length, err);
      callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#closed && this.#fd > 2) {
      this.#closed = true;
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
    callback();
  }

  #pendingNote(): string {
    if (this.#droppedSince === undefined) return '';
    const note = `{"time":"${new Date().toISOString()}","level":"warn","msg":"log lines dropped: the disk was full","droppedBytes":${this.#droppedBytes},"since":"${new Date(this.#droppedSince).toISOString()}"}\n`;
    this.#droppedSince = undefined;
    return note;
  }

  /** ENOSPC, EDQUOT, EROFS — or any other write error: a log must never take the process down. */
  #drop(bytes: number, _err: unknown): void {
    this.#droppedBytes += bytes;
    this.#droppedSince ??= Date.now();
  }
}
