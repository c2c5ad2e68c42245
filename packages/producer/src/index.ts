export { localFolderItems, fileListItems, s3PrefixItems, parseS3Url, imageExtensions, type IngestItem } from './ingest/sources.js';
export { Ingestor, type IngestorDeps, type IngestOptions, type AdmitOutcome } from './ingest/ingestor.js';
export { batchResults, toResultLine, type ResultLine, type BatchResult } from './results/batch-results.js';
export { Producer, type IngestRequest } from './producer.js';
export { labelFace } from './labels/face-labels.js';
export * from './service/index.js';
export { Reindexer, type ReindexKind, type ReindexDeps } from './reindex/reindexer.js';
export { ScheduledReindexWorker } from './schedules/scheduled-reindex-worker.js';
