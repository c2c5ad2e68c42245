export type { ObjectStore, ObjectInfo, PutOptions } from './object-store.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.js';
export { MemoryObjectStore } from './memory-object-store.js';
export {
  objectKeys,
  versionTag,
  isImageId,
  imageIdPattern,
  isPersonName,
  personNamePattern,
  batchIdPattern,
  personFromMemberKey,
} from './keys.js';
