export { DetectHandler, type DetectHandlerDeps } from './detect-handler.js';
export { startDetectStage } from './detect-worker.js';
