export { ErrorCodes, isErrorCode, type ErrorCode } from './error-codes.js';
export { errorRecordSchema, FacepipeError, type ErrorRecord } from './facepipe-error.js';
export { diskFullErrnoCodes, isStorageFull, storageFullReason } from './storage-full.js';
