export { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
export { EmbedHandler, type EmbedHandlerDeps } from './embed-handler.js';
export { startEmbedStage } from './embed-worker.js';
