export { BatchTracker, newBatchId, type BatchInfo, type BatchPurpose, type ClaimOutcome, type BatchTrackerOptions } from './batch-tracker.js';
export { BatchManifestWriter, readBatchManifest, readManifestEntries, manifestPartSize } from './batch-manifest.js';
export { trackerCommands } from './lua-scripts.js';
