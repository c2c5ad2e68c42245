export { localFolderItems, LocalFolderSource, fileListItems, s3PrefixItems, parseS3Url, imageExtensions, type IngestItem, type LocalFolderOptions } from './ingest/sources.js';
export { Ingestor, type IngestorDeps, type IngestOptions, type AdmitOutcome } from './ingest/ingestor.js';
export { batchResults, toResultLine, type ResultLine, type BatchResult } from './results/batch-results.js';
export { Producer, type IngestRequest, type IngestResult, type WaitOptions } from './producer.js';
export { labelFace } from './labels/face-labels.js';
export { Reindexer, type ReindexKind, type ReindexDeps } from './reindex/reindexer.js';
export { ScheduledReindexWorker } from './schedules/scheduled-reindex-worker.js';
export { PhotoSearch, searchLibrary, toSearchHit, facesOfOtherVersions, type FaceComparison, type SearchHit, type SearchProbe } from './library/photo-search.js';
