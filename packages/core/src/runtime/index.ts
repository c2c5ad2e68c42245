export { ServiceContext } from './service-context.js';
export { installShutdown, watchParent } from './shutdown.js';
export { runWorkerProcess, startSweeper, type RunningStage } from './worker-process.js';
export { BatchSweeper, type BatchSweeperOptions, type SweepReport } from './batch-sweeper.js';
export { startObservability, contextReadiness } from './observability.js';
export { BatchPump, type BatchPumpOptions, type BatchSource } from './batch-pump.js';
