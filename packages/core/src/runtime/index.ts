export { ServiceContext } from './service-context.js';
export { installShutdown } from './shutdown.js';
export { runWorkerProcess, type RunningStage } from './worker-process.js';
export { startObservability, contextReadiness } from './observability.js';
