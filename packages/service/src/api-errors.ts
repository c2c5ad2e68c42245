import { ErrorCodes, isErrorCode, type ErrorCode, type ErrorRecord } from '@facepipe/core';

/** Codes the HTTP layer adds to facepipe's error codes (request problems, not image problems). */
export type ApiErrorCode =
  | ErrorCode
  | 'UNAUTHORIZED'
  | 'TOO_MANY_ATTEMPTS'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'NOT_MULTIPART'
  | 'NO_FILES'
  | 'TOO_MANY_FILES'
  | 'BATCH_CLOSED'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  | 'UNKNOWN_QUEUE'
  | 'FORBIDDEN'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_MULTIPART'
  | 'TOO_MANY_PARTS'
  | 'BAD_JSON'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'SHUTTING_DOWN'
  | 'UNAVAILABLE'
  | 'CONFLICT'
  | 'NOT_RETRYABLE';

/** An error answered as `{error: {code, message}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: { code: ApiErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * The HTTP status for a facepipe error code: limits → 413, not an image → 415, unreadable
 * image → 422, missing object → 404, storage or models down → 503, anything else → 500.
 */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case 'FILE_TOO_LARGE':
    case 'IMAGE_TOO_LARGE':
      return 413;
    case 'NOT_AN_IMAGE':
    case 'UNSUPPORTED_FORMAT':
      return 415;
    case 'EMPTY_INPUT':
    case 'TRUNCATED_IMAGE':
    case 'CORRUPT_IMAGE':
    case 'NO_FACE':
    case 'MULTIPLE_FACES':
    case 'NOT_READABLE':
    case 'NOT_A_FILE':
      return 422;
    case 'INVALID_PAYLOAD':
      return 400;
    case 'OBJECT_NOT_FOUND':
      return 404;
    case 'STORAGE_UNAVAILABLE':
    case 'DATABASE_UNAVAILABLE':
    case 'MODEL_ERROR':
      return 503;
    case 'WORKER_CRASHED':
    case 'PIPELINE_VERSION_MISMATCH':
    case 'INTERNAL':
      return 500;
  }
}

/**
 * The status of an upload from its files' outcomes: 202 when every file was accepted, the
 * first rejection's status when none was, 207 (multi-status) for a mix.
 */
export function uploadStatus(errors: (ErrorRecord | undefined)[]): number {
  const rejected = errors.filter((e): e is ErrorRecord => e !== undefined);
  if (rejected.length === 0) return 202;
  if (rejected.length === errors.length) return statusForCode(rejected[0]!.code);
  return 207;
}

/** Whether a failure code may succeed on retry, and what it means; codes facepipe does not know are treated as system errors. */
export function errorCodeInfo(code: string): { retryable: boolean; summary: string } {
  return isErrorCode(code) ? ErrorCodes[code] : { retryable: true, summary: 'not a facepipe error code' };
}
