#!/usr/bin/env node
// `npm run bench [-- name...]`: runs the benchmarks in bench/ (all, or those whose file name
// contains a given name), each printing its figures and ratios.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = readdirSync(`${root}/bench`)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => names.length === 0 || names.some((n) => f.includes(n)))
  .sort();
let status = 0;
for (const file of files) {
  process.stdout.write(`\n## bench/${file}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`, ...passthrough], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
