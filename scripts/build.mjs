#!/usr/bin/env node
// The install/build step (`npm run build`, run by `npm ci` through `prepare`): compile every
// package, then convert the shipped face-api weights to ONNX (skipped when the models are
// already current). The bins are committed launchers (packages/*/bin), so nothing to chmod.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([join(root, 'node_modules/typescript/bin/tsc'), '-b']);
run([join(root, 'packages/vision/dist/convert/main.js'), ...process.argv.slice(2)]);
