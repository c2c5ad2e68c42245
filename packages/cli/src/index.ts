export { plural, ProgressBar } from './ui/progress.js';
export { queueTable, type QueueRow } from './ui/queue-table.js';
export { humanLine } from './ui/log-routing.js';
export { describeFailure, ExitCode, type CliFailure } from './errors/cli-failure.js';
