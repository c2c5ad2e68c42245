#!/usr/bin/env node
import { ConfigError, installShutdown, loadConfig, type FacepipeConfig } from '@facepipe/core';
import { startService } from './service/index.js';

/**
 * `facepipe-producer` / `facepipe serve`: the HTTP service (upload API, dashboard, metrics,
 * probes). Configured by the environment (docs/configuration.md, docs/service.md); stops on
 * SIGTERM/SIGINT after in-flight requests (a second signal forces).
 */
let config: FacepipeConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
try {
  const service = await startService({ config });
  process.stderr.write(`facepipe service at ${service.url} (dashboard ${service.url}/dashboard)\n`);
  installShutdown({ log: service.producer.ctx.log, graceful: () => service.close(), force: async () => undefined, forceAfterMs: 30_000 });
} catch (err) {
  process.stderr.write(`facepipe serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 3);
}
