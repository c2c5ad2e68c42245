export { LocalStack, type LocalStackOptions } from './local/local-stack.js';
export { WorkerProcesses, workerEntry, type WorkerProcess } from './local/worker-processes.js';
export { ProgressBar } from './ui/progress.js';
export { localStageSettings } from './local/stage-settings.js';
