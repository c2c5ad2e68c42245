export * from './contract.js';
export * from './manifest.js';
export * from './types.js';
export * from './session.js';
export * from './decode-ssd.js';
export * from './decode-tiny-yolo.js';
export * from './landmarks.js';
export { InferencePool, type InferencePoolOptions } from './inference-pool.js';
export { disableOrtTelemetry, ORT_TELEMETRY_VARIABLE } from './ort-environment.js';
