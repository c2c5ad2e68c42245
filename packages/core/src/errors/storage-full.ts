/**
 * Recognises "out of space" in whatever shape a writer reports it, so every writer — file
 * streams, the embedded S3 server, an S3 client, Redis, PostgreSQL/PGlite — turns it into the
 * one typed, retryable STORAGE_FULL instead of a crash or an INTERNAL error.
 */

/** errno codes of a file system that takes no more writes. */
export const diskFullErrnoCodes: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** S3 error codes (and MinIO's) that mean the server's disks are full. */
const s3FullCodes = new Set(['InsufficientStorage', 'XMinioStorageFull', 'StorageFull']);

/**
 * Redis replies refusing a write for want of space: MISCONF (a failed append-only-file or RDB
 * write, "No space left on device") and OOM (maxmemory reached).
 */
const redisFullReply = /^(MISCONF|OOM)\b/;

/** PostgreSQL's disk_full (53100) and the messages of a file system that filled under it. */
const postgresFullCodes = new Set(['53100']);
const fullMessage = /no space left on device|disk quota exceeded|read-only file system|could not extend file/i;

/**
 * Why `err` means a store is full (a short reason such as "ENOSPC" or "Redis MISCONF"), or
 * undefined when it does not. Follows `cause` chains (a few levels).
 */
export function storageFullReason(err: unknown): string | undefined {
  for (let depth = 0, e: unknown = err; e !== undefined && e !== null && depth < 5; depth += 1, e = (e as { cause?: unknown }).cause) {
    if (typeof e !== 'object') break;
    const { code, name, message, $metadata, status } = e as { code?: unknown; name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; status?: unknown };
    if (typeof code === 'string' && diskFullErrnoCodes.has(code)) return code;
    if (typeof code === 'string' && postgresFullCodes.has(code)) return 'PostgreSQL disk_full';
    if (code === 'STORAGE_FULL') return typeof message === 'string' ? message : 'STORAGE_FULL';
    if (typeof name === 'string' && s3FullCodes.has(name)) return `S3 ${name}`;
    if (typeof code === 'string' && s3FullCodes.has(code)) return `S3 ${code}`;
    if ($metadata?.httpStatusCode === 507 || status === 507) return 'S3 507 Insufficient Storage';
    if (typeof message === 'string') {
      const redis = redisFullReply.exec(message);
      if (redis && (name === 'ReplyError' || /redis|append only|maxmemory|RDB/i.test(message))) return `Redis ${redis[1]}`;
      if (fullMessage.test(message)) return 'no space left';
    }
  }
  return undefined;
}

/** True when `err` means a store is out of space (see {@link storageFullReason}). */
export function isStorageFull(err: unknown): boolean {
  return storageFullReason(err) !== undefined;
}
