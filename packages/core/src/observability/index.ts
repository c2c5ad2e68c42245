export { FacepipeMetrics, queueStates, type AdmissionView, type JobOutcome, type StageMetrics } from './facepipe-metrics.js';
export { startHealthServer, readyReport, cachedReadiness, type HealthServer, type HealthServerOptions, type ReadyCheck, type ReadyReport } from './health-server.js';
export { instrumentDetectEngine } from './instrument-engine.js';
export { DiskSpaceMonitor, describeDisk, diskState, freeSpace, parseWatchedDirs, type DiskReading, type DiskState, type DiskThresholds, type WatchedDir } from './disk-space.js';
