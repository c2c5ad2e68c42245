export { ProgressBar } from './ui/progress.js';
export { describeFailure, ExitCode, type CliFailure } from './errors/cli-failure.js';
