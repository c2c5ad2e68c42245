#!/usr/bin/env node
import { ConfigError, loadConfig, type FacepipeConfig } from '@facepipe/core';
import { serve } from './serve.js';

/**
 * `facepipe-service`: the service process without the CLI, the same as `facepipe serve` (see
 * serve.ts). Configured by the environment (docs/configuration.md, docs/service.md).
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
  await serve({ config });
} catch (err) {
  process.stderr.write(`facepipe serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 3);
}
