#!/usr/bin/env node
// The install/build step (`npm run build`, run by `npm ci` through `prepare`): compile every
// package, make the CLI and worker entry points executable, and convert the shipped face-api
// weights to ONNX (skipped when the models are already current).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([join(root, 'node_modules/typescript/bin/tsc'), '-b']);
for (const pkg of ['cli', 'worker-detect', 'worker-embed', 'worker-classify', 'producer']) {
  const main = join(root, 'packages', pkg, 'dist', 'main.js');
  if (existsSync(main)) chmodSync(main, 0o755);
}
run([join(root, 'packages/vision/dist/convert/main.js'), ...process.argv.slice(2)]);
