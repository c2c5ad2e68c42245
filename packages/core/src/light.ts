/**
 * `@facepipe/core/light`: the parts of core with no queue, storage or metrics client behind them
 * (errors, config, the local input reader, result document types, version tags). The vision
 * package and the CLI's local commands (`detect`, `verify`, the evaluations) import this, so that
 * starting them does not load BullMQ, ioredis and the AWS SDK (≈0.9 s of a `facepipe detect`
 * start on the dev machine).
 */
export * from './errors/index.js';
export * from './config/index.js';
export * from './input/index.js';
export * from './engines/index.js';
export { REJECTION_REASONS } from './results/documents.js';
export type {
  Box, Point, DetectVersionInfo, EmbedVersionInfo, DetectedFace, DetectPassTiming, RejectedFace, RejectionReason, FaceQuality,
} from './results/documents.js';
export { versionTag } from './storage/keys.js';
export { processAlive } from './runtime/process-alive.js';
