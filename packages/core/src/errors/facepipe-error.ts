import { z } from 'zod';
import { ErrorCodes, isErrorCode, type ErrorCode } from './error-codes.js';
import { storageFullReason } from './storage-full.js';

/** The serialisable form of a {@link FacepipeError}, as recorded in results and job data. */
export const errorRecordSchema = z.object({
  code: z.enum(Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});
export type ErrorRecord = z.infer<typeof errorRecordSchema>;

/**
 * A failure with a stable, typed code. Workers record `{code, message}` with the job and decide
 * from {@link FacepipeError.retryable} whether a retry can help.
 */
export class FacepipeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message ?? ErrorCodes[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? ErrorCodes[code].retryable;
  }

  toRecord(): ErrorRecord {
    return { code: this.code, message: this.message };
  }

  /**
   * Wraps anything thrown into a FacepipeError, keeping typed errors as they are. A store out of
   * space (ENOSPC, EDQUOT, EROFS, Redis MISCONF/OOM, S3 507, PostgreSQL disk_full) becomes
   * STORAGE_FULL whatever the fallback.
   */
  static from(err: unknown, fallback: ErrorCode = 'INTERNAL'): FacepipeError {
    if (err instanceof FacepipeError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const message = err instanceof Error ? err.message : String(err);
    if (isErrorCode(code)) return new FacepipeError(code, message, { cause: err });
    const full = storageFullReason(err);
    if (full !== undefined) return new FacepipeError('STORAGE_FULL', `${message} (${full}: a data store is out of space; free space and it goes on)`, { cause: err });
    return new FacepipeError(fallback, message, { cause: err });
  }
}
