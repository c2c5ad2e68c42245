/**
 * Every failure facepipe records with a job or returns to a caller carries one of these codes.
 * Input codes are permanent: retrying the same bytes cannot succeed, so jobs failing with them
 * are not retried. The rest describe the system, and may be transient.
 */
export const ErrorCodes = {
  /** The input has zero bytes. */
  EMPTY_INPUT: { retryable: false, summary: 'the file is empty' },
  /** The bytes are not an image format facepipe recognises. */
  NOT_AN_IMAGE: { retryable: false, summary: 'the file is not an image' },
  /** A known image format that facepipe does not decode (for example SVG, PDF, ICO). */
  UNSUPPORTED_FORMAT: { retryable: false, summary: 'the image format is not supported' },
  /** The image header is valid but the pixel data stops early. */
  TRUNCATED_IMAGE: { retryable: false, summary: 'the image data is cut short' },
  /** The decoder rejected the pixel data. */
  CORRUPT_IMAGE: { retryable: false, summary: 'the image data is corrupt' },
  /** Width × height exceeds the configured pixel limit (decompression-bomb guard). */
  IMAGE_TOO_LARGE: { retryable: false, summary: 'the image has more pixels than allowed' },
  /** The file exceeds the configured byte limit. */
  FILE_TOO_LARGE: { retryable: false, summary: 'the file is larger than allowed' },
  /** A job or request payload failed validation. */
  INVALID_PAYLOAD: { retryable: false, summary: 'the job payload is invalid' },
  /** An object a job refers to is missing from storage, or a local input (file, link target) that does not exist. */
  OBJECT_NOT_FOUND: { retryable: false, summary: 'a stored object the job needs is missing' },
  /**
   * A local input that the file system refuses to read: permission denied (EACCES, EPERM), a
   * symbolic-link loop (ELOOP), a name too long, an I/O error. Permanent for this file.
   */
  NOT_READABLE: { retryable: false, summary: 'the file cannot be read' },
  /** A path where a regular file was expected names a FIFO, socket, device or folder instead. */
  NOT_A_FILE: { retryable: false, summary: 'the path is not a regular file' },
  /** Enrollment photo with no face. */
  NO_FACE: { retryable: false, summary: 'no face was found' },
  /** Enrollment photo with more than one face. */
  MULTIPLE_FACES: { retryable: false, summary: 'more than one face was found' },
  /** A model could not be loaded or run. */
  MODEL_ERROR: { retryable: true, summary: 'a model failed to load or run' },
  /** Object storage did not answer or answered with a server error. */
  STORAGE_UNAVAILABLE: { retryable: true, summary: 'object storage is unavailable' },
  /**
   * The worker holding the job died (kill -9, out of memory) more often than
   * FACEPIPE_MAX_STALLED_COUNT allows: the input is likely what kills it, so it is not retried.
   */
  WORKER_CRASHED: { retryable: false, summary: 'the worker processing this input crashed repeatedly' },
  /** The face index database (DATABASE_URL, or the embedded one) did not answer or refused a query. */
  DATABASE_UNAVAILABLE: { retryable: true, summary: 'the face index database is unavailable' },
  /**
   * A detect or embed worker was given a job made for another pipeline version than its own
   * settings and models produce (producer and workers deployed with different settings): failing
   * it keeps results of two pipelines from being mixed. Fix the settings, then re-ingest.
   */
  PIPELINE_VERSION_MISMATCH: { retryable: false, summary: 'the worker runs other settings or models than the job was made for' },
  /** Anything not classified above. Retried, since it may be transient. */
  INTERNAL: { retryable: true, summary: 'an internal error occurred' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}
