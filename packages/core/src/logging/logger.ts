export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Context fields every log line may carry; stages add `{stage, queue, jobId, imageId, batchId}`. */
export type LogContext = Record<string, string | number | boolean | null | undefined>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Where log lines go: one JSON object per line. */
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

let processSink: LogSink = stderrSink;

/**
 * Where the loggers of this process that were given no sink write: stderr (a service's or
 * worker's log) unless a command-line tool sends the lines elsewhere, so they do not land in the
 * middle of its human output. Takes effect for loggers made before the call too.
 */
export function setProcessLogSink(sink: LogSink | undefined): void {
  processSink = sink ?? stderrSink;
}

/** Keys whose values never reach a log line (bearer tokens, S3 secrets…). */
const secretKeys = /token|secret|password|authorization|credential/i;

/**
 * A small structured logger: JSON lines with `time`, `level`, `msg` and the context of the
 * logger and the call. `child()` adds context, so a stage logs `{queue, jobId}` on every line.
 */
export class Logger {
  readonly #level: LogLevel;
  readonly #context: LogContext;
  readonly #sink: LogSink;

  constructor(options: { level?: LogLevel; context?: LogContext; sink?: LogSink } = {}) {
    this.#level = options.level ?? 'info';
    this.#context = options.context ?? {};
    this.#sink = options.sink ?? ((line) => processSink(line));
  }

  child(context: LogContext): Logger {
    return new Logger({ level: this.#level, context: { ...this.#context, ...context }, sink: this.#sink });
  }

  isEnabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return rank[level] >= rank[this.#level];
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#write('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.#write('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#write('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.#write('error', msg, fields);
  }

  #write(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void {
    if (!this.isEnabled(level)) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...this.#context };
    for (const [key, value] of Object.entries(fields ?? {})) {
      record[key] = secretKeys.test(key) ? '[redacted]' : serialise(value);
    }
    this.#sink(JSON.stringify(record));
  }
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack };
  }
  return value;
}
