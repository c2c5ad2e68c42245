export { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from './embedded/embedded-s3.js';
export { LocalS3Server, decodeAwsChunked, type LocalS3ServerOptions } from './embedded/local-s3-server.js';
export { startLocalRedis, freePort, redisMissingMessage, type LocalRedis } from './embedded/local-redis.js';
export { localFolderItems, fileListItems, s3PrefixItems, parseS3Url, imageExtensions, type IngestItem } from './ingest/sources.js';
export { Ingestor, type IngestorDeps, type IngestOptions, type AdmitOutcome } from './ingest/ingestor.js';
export { batchResults, toResultLine, type ResultLine } from './results/batch-results.js';
export { Producer, type IngestRequest } from './producer.js';
export { labelFace } from './labels/face-labels.js';
export * from './service/index.js';
