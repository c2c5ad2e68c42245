#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [filter...]   e.g. `npm test -- unit` or `npm test -- parity`
//
// Unit test files run together in one runner; every other file runs in a runner of its own, in
// its own process group, under a wall-clock limit (FACEPIPE_TEST_FILE_TIMEOUT_S, default 900 s):
// a file that hangs (a child process left behind, a stack that never answers) is killed with
// everything it started and counted as failed, so the suite always ends and says which file hung.
// At the end a table lists each file's time, slowest first, for keeping CI's time in check.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const fileTimeoutS = Number(process.env.FACEPIPE_TEST_FILE_TIMEOUT_S ?? 900);
if (!Number.isFinite(fileTimeoutS) || fileTimeoutS <= 0) {
  console.error(`FACEPIPE_TEST_FILE_TIMEOUT_S must be a positive number of seconds, got "${process.env.FACEPIPE_TEST_FILE_TIMEOUT_S}"`);
  process.exit(2);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'helpers' || name === 'fixtures' ? [] : walk(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// Unit tests are quick and start nothing: one runner for all of them. The rest one at a time:
// integration suites start their own redis-server and S3 server, and model-heavy suites would
// otherwise fight over two cores.
const unit = files.filter((f) => f.startsWith(join('test', 'unit')));
const groups = [...(unit.length > 0 ? [{ name: 'test/unit (all files)', files: unit }] : []), ...files.filter((f) => !unit.includes(f)).map((f) => ({ name: f, files: [f] }))];

let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current, 'SIGKILL');
    process.exit(130);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs one group of files; resolves with its exit status and seconds. */
function runGroup(group) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...group.files], {
      cwd: root,
      stdio: 'inherit',
      detached: true, // its own process group, so a timeout takes everything it started
    });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n✖ ${group.name}: still running after ${fileTimeoutS} s; killing it and everything it started`);
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 10_000).unref();
    }, fileTimeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever the file left behind in its group goes too.
      killGroup(child, 'SIGKILL');
      current = undefined;
      resolve({ ...group, ok: code === 0 && !timedOut, status: timedOut ? 'timed out' : code === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const suiteStarted = Date.now();
const outcomes = [];
for (const group of groups) outcomes.push(await runGroup(group));

const total = (Date.now() - suiteStarted) / 1000;
console.log('\ntest files by time (slowest first):');
for (const o of [...outcomes].sort((a, b) => b.seconds - a.seconds)) {
  console.log(`  ${o.seconds.toFixed(1).padStart(7)} s  ${o.ok ? '✔' : '✖'} ${o.name}${o.ok ? '' : `  ${o.status}`}`);
}
const failed = outcomes.filter((o) => !o.ok);
console.log(`\n${outcomes.length} runs, ${failed.length} failed, ${total.toFixed(0)} s in all`);
for (const o of failed) console.log(`✖ ${o.name}: ${o.status}`);
process.exit(failed.length > 0 ? 1 : 0);
