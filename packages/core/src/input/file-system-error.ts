import { FacepipeError } from '../errors/index.js';

/** errno codes that mean "this path names nothing (any more)". */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** errno codes that mean "this path exists but the file system will not let us read it". */
const REFUSED = new Set(['EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG', 'EIO', 'EROFS', 'ETXTBSY', 'EBADF', 'ESTALE']);
/** errno codes that mean "this is not something that can be read as a file". */
const NOT_A_FILE = new Set(['EISDIR', 'ENXIO', 'ENODEV', 'EOPNOTSUPP', 'ENOTSUP', 'ESPIPE']);

/**
 * Maps a failure of the file system while reading a local input to a permanent typed error of
 * that input: missing path or dangling link → OBJECT_NOT_FOUND; permission, link loop, I/O →
 * NOT_READABLE; folder, device → NOT_A_FILE. Typed errors pass through. Anything else (EMFILE,
 * ENOMEM: the machine, not the file) stays a retryable INTERNAL.
 */
export function fileSystemError(err: unknown, path: string): FacepipeError {
  if (err instanceof FacepipeError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : 'error';
  const detail = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && MISSING.has(code)) return new FacepipeError('OBJECT_NOT_FOUND', `no such file: ${path}`, { cause: err });
  if (code === 'ELOOP') return new FacepipeError('NOT_READABLE', `${path}: too many levels of symbolic links (a link loop)`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new FacepipeError('NOT_READABLE', `${path}: permission denied (${reason})`, { cause: err });
  if (typeof code === 'string' && REFUSED.has(code)) return new FacepipeError('NOT_READABLE', `${path}: cannot be read (${detail})`, { cause: err });
  if (code === 'EISDIR') return new FacepipeError('NOT_A_FILE', `${path} is a folder, not a file`, { cause: err });
  if (typeof code === 'string' && NOT_A_FILE.has(code)) return new FacepipeError('NOT_A_FILE', `${path} is not a regular file (${reason})`, { cause: err });
  return FacepipeError.from(err);
}
