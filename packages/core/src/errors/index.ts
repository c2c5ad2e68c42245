export { ErrorCodes, isErrorCode, type ErrorCode } from './error-codes.js';
export { FacepipeError, type ErrorRecord } from './facepipe-error.js';
