import { parseArgs } from 'node:util';
import { installShutdown, loadConfig } from '@facepipe/core';
import { ScheduledReindexWorker, startService } from '@facepipe/producer';
import { UsageError, type Command } from './command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP service: upload API, ops dashboard, /metrics, /healthz, /readyz',
  usage: `facepipe serve [--host <address>] [--port <n>]

Serves the upload API (/v1, described at /openapi.json), the dashboard (/dashboard, bull-board
under /dashboard/jobs), Prometheus metrics (/metrics) and probes (/healthz, /readyz) on the
deployment the environment names (REDIS_URL, S3_*). Defaults: FACEPIPE_HTTP_HOST (127.0.0.1) and
FACEPIPE_HTTP_PORT (8080; 0 = a free port). A non-loopback address needs FACEPIPE_API_TOKEN.
See docs/service.md. Stops on SIGTERM/SIGINT after in-flight requests.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { host: { type: 'string' }, port: { type: 'string' } } });
    if (positionals.length > 0) throw new UsageError('facepipe serve takes no arguments');
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port must be an integer from 0 to 65535');
    const service = await startService({ config: loadConfig(), host: values.host, port });
    // Scheduled re-index jobs (facepipe schedules) run here: every deployment has a service.
    const schedules = new ScheduledReindexWorker(service.producer);
    await schedules.start();
    process.stderr.write(`facepipe service at ${service.url} (dashboard: ${service.url}/dashboard)\n`);
    await new Promise<void>((resolve) => {
      installShutdown({
        log: service.producer.ctx.log,
        graceful: async () => {
          await schedules.close();
          await service.close();
          resolve();
        },
        force: async () => undefined,
        forceAfterMs: 30_000,
      });
    });
    return 0;
  },
};
