export { intermediateTag, type ObjectStore, type ObjectInfo, type PutOptions, type BucketSetup } from './object-store.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.js';
export { MemoryObjectStore } from './memory-object-store.js';
export {
  objectKeys,
  redisKeys,
  versionTag,
  isImageId,
  imageIdPattern,
  isPersonName,
  personNamePattern,
  batchIdPattern,
  personFromMemberKey,
} from './keys.js';
export { S3HttpClient, type S3HttpClientOptions } from './s3-http-client.js';
export { SigV4Signer, canonicalRequest, EMPTY_PAYLOAD_SHA256, type SigningCredentials, type SignableRequest } from './sigv4.js';
export { SigV4Verifier, SigV4Rejection, type SigV4RejectionCode, type SigV4VerifierOptions, type VerifiableRequest, type VerifiedRequest } from './sigv4-verifier.js';
export { getStoredBytes, storedObjectMissing } from './stored-object.js';
