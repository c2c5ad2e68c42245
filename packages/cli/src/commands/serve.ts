import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core';
import { serve } from '@facepipe/service';
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
    // The same process as the facepipe-service bin, the image and Kubernetes run (service/src/serve.ts).
    await serve({ config: loadConfig(), host: values.host, port });
    return 0;
  },
};
