export { Logger, setProcessLogSink, type LogLevel, type LogContext, type LogSink } from './logger.js';
export { LogFile } from './log-file.js';
