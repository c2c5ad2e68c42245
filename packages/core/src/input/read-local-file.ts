import { constants, type BigIntStats, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { FacepipeError } from '../errors/index.js';
import { describeFileKind } from './file-kind.js';
import { fileSystemError } from './file-system-error.js';

/** Limits applied to a local input before its bytes are read. */
export interface ReadLocalFileOptions {
  /** Larger files fail with FILE_TOO_LARGE before a byte is read. @defaultValue no limit */
  maxBytes?: number;
  /** Zero-byte files fail with EMPTY_INPUT. @defaultValue false */
  rejectEmpty?: boolean;
}

/**
 * Reads one local input (following symbolic links) with every failure of the file system as a
 * permanent typed error of that input, never an exception that aborts a batch:
 * missing file, vanished file or dangling link → OBJECT_NOT_FOUND; permission denied, link loop,
 * I/O error → NOT_READABLE; FIFO, socket, device or folder → NOT_A_FILE; over `maxBytes` →
 * FILE_TOO_LARGE; empty (with `rejectEmpty`) → EMPTY_INPUT.
 *
 * A FIFO is never opened for a blocking read: the path is stat'ed first, and opened with
 * O_NONBLOCK (which a regular file ignores) and checked again through the open handle, so a file
 * swapped for a FIFO in between cannot block either.
 */
export async function readLocalFile(path: string, options: ReadLocalFileOptions = {}): Promise<Buffer> {
  try {
    const before = await stat(path).catch(async (err: unknown) => {
      throw await explainStatFailure(err, path);
    });
    checkRegularFile(before, path, options);
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      checkRegularFile(info, path, options);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fileSystemError(err, path);
  }
}

function checkRegularFile(info: Stats | BigIntStats, path: string, options: ReadLocalFileOptions): void {
  if (!info.isFile()) throw new FacepipeError('NOT_A_FILE', `${path} is ${describeFileKind(info)}, not a regular file`);
  const size = Number(info.size);
  if (options.rejectEmpty && size === 0) throw new FacepipeError('EMPTY_INPUT', `${path} has 0 bytes`);
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    throw new FacepipeError('FILE_TOO_LARGE', `${path} has ${size} bytes, more than the limit of ${options.maxBytes}`);
  }
}

/** A stat that failed with ENOENT on a path that is itself a link: say the link dangles. */
async function explainStatFailure(err: unknown, path: string): Promise<unknown> {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'ENOENT') return err;
  const link = await lstat(path).catch(() => undefined);
  if (link?.isSymbolicLink()) return new FacepipeError('OBJECT_NOT_FOUND', `${path} is a symbolic link to a file that does not exist`, { cause: err });
  return err;
}
