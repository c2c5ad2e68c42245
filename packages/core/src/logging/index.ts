export { Logger, setProcessLogSink, type LogLevel, type LogContext, type LogSink } from './logger.js';
