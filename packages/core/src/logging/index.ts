export { Logger, type LogLevel, type LogContext, type LogSink } from './logger.js';
