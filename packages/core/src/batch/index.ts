export { BatchTracker, newBatchId, type BatchInfo, type BatchPurpose, type ClaimOutcome, type BatchTrackerOptions } from './batch-tracker.js';
export { BatchManifestWriter, readBatchManifest } from './batch-manifest.js';
