import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setProcessLogSink } from '@facepipe/core';

/**
 * Where a human-facing command's structured log lines go (the producer, and for `run` the
 * service and schedules it runs in process): JSON lines would otherwise land in the middle of its
 * progress bars and results. Every line is appended to `<dataDir>/logs/cli.log` when that folder
 * exists (a local deployment made it; none is created for this); warnings and errors are also
 * said on stderr in one human line. With --debug (or FACEPIPE_DEBUG=1) the JSON lines stay on
 * stderr, as a service prints them. `serve`, `worker` and `deployment-process` never call this:
 * their log is their stderr.
 */
export function routeCommandLogs(dataDir: string): void {
  if (process.argv.includes('--debug') || process.env.FACEPIPE_DEBUG === '1') return;
  const logs = join(dataDir, 'logs');
  const file = existsSync(logs) ? join(logs, 'cli.log') : undefined;
  setProcessLogSink((line) => {
    if (file) {
      try {
        appendFileSync(file, `${line}\n`);
      } catch {
        // A log file that cannot be written loses its lines, never the command.
      }
    }
    const said = humanLine(line, file);
    if (said) process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${said}\n`);
  });
}

/** A warning or error log line as one line for a person; undefined for the other levels. */
export function humanLine(json: string, file?: string): string | undefined {
  let record: { level?: unknown; msg?: unknown; err?: unknown; error?: unknown };
  try {
    record = JSON.parse(json) as typeof record;
  } catch {
    return json;
  }
  if (record.level !== 'warn' && record.level !== 'error') return undefined;
  const cause = record.err ?? record.error;
  const detail = typeof cause === 'string' ? cause : typeof (cause as { message?: unknown })?.message === 'string' ? (cause as { message: string }).message : undefined;
  return `facepipe: ${record.level === 'warn' ? 'warning' : 'error'}: ${String(record.msg)}${detail ? `: ${detail}` : ''}${file ? ` (details in ${file})` : ''}`;
}
