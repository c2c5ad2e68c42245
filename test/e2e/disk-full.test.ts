import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadConfig, type BatchInfo } from '@facepipe/core';
import { processAlive, readDeploymentRecord, type DeploymentRecord } from '@facepipe/devstack';
import { batchResults, Producer, toResultLine } from '@facepipe/producer';
import { freshShellEnv, runCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';

/**
 * The disk under the embedded S3 store fills in the middle of a batch (a small tmpfs mounted as
 * <data-dir>/s3, filled with a file), then is freed: nothing crashes, the dashboard, /metrics and
 * /readyz say "disk full", the workers' writes and the admission of a second ingest wait and
 * retry (STORAGE_FULL), and once space is back every input has one result, equal to a clean pass.
 * Then the deployment process is killed with -9: its workers and redis-server go with it.
 */
const lfw = 'recognition/lfw_dev/lfw-deepfunneled';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
/** Progress on stderr, so a slow or stuck run shows where it is. */
const phase = (what: string) => process.stderr.write(`[disk-full ${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

function tryMount(dir: string, size: string): string | undefined {
  // Owner-only, as facepipe requires of a data dir (and of everything in it).
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): the disk-full test needs root or CAP_SYS_ADMIN`;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
}

/** Fills the file system of `dir` with one file until it answers ENOSPC; returns the file. */
function fill(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * Keeps the file system of `dir` full while the pipeline frees space (classify deletes a stage's
 * documents and the exact chips once an image's result is written, which would let the next
 * image's writes through): every 20 ms, whatever was freed is taken again. Returns its stop and
 * the file it grows.
 */
function keepFull(dir: string): { stop(): void; file: string } {
  const file = join(dir, 'filler-more.bin');
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(512, 1);
  const timer = setInterval(() => {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch {
        break; // ENOSPC: full again
      }
    }
  }, 20);
  timer.unref(); // a failed assertion before the stop must not keep the test process alive
  return {
    file,
    stop: () => {
      clearInterval(timer);
      closeSync(fd);
    },
  };
}

/** Waits stretch on a loaded machine (FACEPIPE_TEST_SLOW=3 triples them). */
const slow = Number(process.env.FACEPIPE_TEST_SLOW ?? 1) || 1;
const skipReason = missingData(lfw) || (process.platform !== 'linux' ? 'the disk-full test mounts a tmpfs (Linux only)' : false);

describe('disk full: a condition, not a crash', { skip: skipReason, timeout: 600_000 }, () => {
  let root: string;
  let dataDir: string;
  let s3Dir: string;
  let mountProblem: string | undefined;
  let record: DeploymentRecord | undefined;
  let producer: Producer | undefined;
  const env = freshShellEnv({ FACEPIPE_RETRY_MAX_DELAY_S: '2', FACEPIPE_DISK_FULL_FREE_MB: '1', FACEPIPE_DISK_WARN_FREE_MB: '4', FACEPIPE_LOG_LEVEL: 'info' });

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'facepipe-disk-full-'));
    dataDir = join(root, 'data');
    s3Dir = join(dataDir, 's3');
    mountProblem = tryMount(s3Dir, '24m');
  });

  after(async () => {
    await producer?.close().catch(() => undefined);
    if (process.env.FACEPIPE_TEST_KEEP_LOGS && existsSync(join(dataDir, 'logs'))) execFileSync('cp', ['-r', join(dataDir, 'logs'), process.env.FACEPIPE_TEST_KEEP_LOGS]);
    // Whatever still runs (a failed assertion before the kill): stop it the documented way.
    if (existsSync(join(dataDir, 'deployment.json'))) await runCli(['down', '--data-dir', dataDir, '--timeout', '20'], { cwd: root, env });
    unmount(s3Dir);
    rmSync(root, { recursive: true, force: true });
  });

  test('`facepipe up` refuses a full disk with a message, starting nothing', (t) => {
    if (mountProblem) return t.skip(mountProblem);
    const small = join(root, 'small');
    const problem = tryMount(small, '1m');
    if (problem) return t.skip(problem);
    return (async () => {
      try {
        fill(small);
        const up = await runCli(['up', '--data-dir', small], { cwd: root, env });
        assert.equal(up.code, 1, up.stdout + up.stderr);
        assert.match(up.stderr, /facepipe up: the disk holding .* is full: 0\.0 MiB free .*Free space there/);
        assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
        assert.ok(!existsSync(join(small, 'deployment.json')), 'nothing started');
      } finally {
        unmount(small);
      }
    })();
  });

  test('filled mid-batch, then freed: one result per input equal to a clean pass, the alert seen, no orphan', async (t) => {
    if (mountProblem) return t.skip(mountProblem);
    const started = performance.now();
    // 10 photos for the first ingest, 4 more ingested while the disk is full.
    const people = readdirSync(dataPath(lfw)).sort().slice(0, 14);
    const first = join(root, 'first');
    const second = join(root, 'second');
    const all = join(root, 'all');
    for (const d of [first, second, all]) mkdirSync(d);
    people.forEach((person, i) => {
      const photo = readdirSync(dataPath(lfw, person)).sort()[0]!;
      copyFileSync(dataPath(lfw, person, photo), join(i < 10 ? first : second, photo));
      copyFileSync(dataPath(lfw, person, photo), join(all, photo));
    });

    phase('facepipe up');
    const up = await runCli(['up', '--data-dir', dataDir], { cwd: root, env });
    phase('up');
    assert.equal(up.code, 0, up.stderr + up.stdout);
    record = readDeploymentRecord(dataDir)!;
    const base = record.serviceUrl!;
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
    producer = await Producer.connect(loadConfig({ ...env, ...record.env, FACEPIPE_LOG_LEVEL: 'error' }), 'disk-full-test');
    const p = producer;

    const summarize = async (batchId: string) => {
      const out = new Map<string, string>();
      for await (const { entry, result } of batchResults(p.ctx.store, batchId)) {
        const line = toResultLine(entry, result);
        const file = basename(line.file);
        assert.ok(!out.has(file), `one result per input (${file} twice)`);
        out.set(file, 'error' in line ? `error ${line.error.code}` : JSON.stringify(line.faces.map((f) => f.box.map(Math.round))));
      }
      return out;
    };
    const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs * slow;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };
    const finished = async (batchId: string): Promise<BatchInfo> => {
      let batch: BatchInfo | undefined;
      await waitFor(`batch ${batchId} to finish`, async () => (batch = await p.getBatch(batchId))?.finishedAt !== undefined);
      return batch!;
    };
    const alerts = async () =>
      ((await (await fetch(`${base}/dashboard/api/overview`, { headers: { authorization: `Bearer ${token}` } })).json()) as { alerts: { kind: string; dir?: string; message: string }[] }).alerts;
    /** The facepipe_disk_full lines of /metrics (so a failed match shows them, not the whole page). */
    const diskFullMetrics = async () => (await (await fetch(`${base}/metrics`)).text()).split('\n').filter((l) => l.startsWith('facepipe_disk_full{')).join('\n');

    // Before: not full, ready.
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.match(await diskFullMetrics(), new RegExp(`facepipe_disk_full\\{dir="${s3Dir}"[^}]*\\} 0`));

    // The first batch runs; the disk fills once a few of its photos are done.
    let firstId: string | undefined;
    const firstIngest = p.ingest({ input: first, onBatch: (id) => (firstId = id) });
    await waitFor('the first photos to finish', async () => firstId !== undefined && ((await p.getBatch(firstId))?.done ?? 0) >= 2);
    const filler = fill(s3Dir);
    const full = keepFull(s3Dir);
    phase('disk filled');
    const filledAt = performance.now();
    // A second ingest arrives while the disk is full (as this process reads it: readings are
    // cached for a second): admission pauses instead of failing.
    await waitFor('this process to read the disk as full', async () => (await p.ctx.disk.full()).length > 0, 10_000);
    let secondId: string | undefined;
    const secondIngest = p.ingest({ input: second, onBatch: (id) => (secondId = id) });

    // The alert: the dashboard's banner, /metrics and /readyz.
    let banner: { kind: string; dir?: string; message: string } | undefined;
    await waitFor('the disk-full banner', async () => (banner = (await alerts()).find((a) => a.kind === 'disk-full')) !== undefined, 10_000);
    phase('banner seen');
    assert.equal(banner!.dir, s3Dir);
    assert.match(banner!.message, /^disk full: /);
    assert.match(await diskFullMetrics(), new RegExp(`facepipe_disk_full\\{dir="${s3Dir}"[^}]*\\} 1`));
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(JSON.stringify(await ready.json()), /disk full/);
    // An upload is refused as a whole while the disk is full (503 STORAGE_FULL, Retry-After).
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(second, readdirSync(second)[0]!))]), 'while-full.jpg');
    const upload = await fetch(`${base}/v1/images`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    const refused = (await upload.json()) as { error?: { code: string; message: string } };
    assert.equal(upload.status, 503, JSON.stringify(refused));
    assert.equal(refused.error?.code, 'STORAGE_FULL');
    assert.match(refused.error!.message, /^disk full: /);
    assert.ok(upload.headers.get('retry-after'));
    const firstBefore = await p.getBatch(firstId!);
    // While full: a worker's write is refused as STORAGE_FULL and retried, nothing finishes (as
    // done or failed), and the second ingest's admission waits.
    const workerLogs = () => readdirSync(join(dataDir, 'logs')).filter((f) => f.startsWith('worker-')).map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8')).join('');
    await waitFor('a worker write refused as STORAGE_FULL', async () => /"code":"STORAGE_FULL"/.test(workerLogs()), 60_000);
    phase('a worker retries STORAGE_FULL');
    const firstDuring = await p.getBatch(firstId!);
    assert.equal(firstDuring?.failed, 0, `no photo fails while the disk is full: ${JSON.stringify(firstDuring?.errors)}`);
    // A job may still finish in the meantime (a write landing in space freed before the filler
    // takes it back). None fails, and not all finish.
    assert.ok((firstDuring?.done ?? 0) >= (firstBefore?.done ?? 0));
    assert.ok(firstDuring!.done < 10, `the batch was cut off mid-way (${firstDuring?.done} of 10 done)`);
    await waitFor('the second batch to exist', async () => secondId !== undefined, 30_000);
    assert.equal((await p.getBatch(secondId!))?.total ?? 0, 0, 'the second ingest admitted nothing while the disk was full');
    const fullForMs = performance.now() - filledAt;

    full.stop();
    unlinkSync(filler);
    unlinkSync(full.file);
    phase('disk freed');
    const freedAt = performance.now();
    await Promise.all([firstIngest, secondIngest]);
    const [a, b] = [await finished(firstId!), await finished(secondId!)];
    const recoveredMs = performance.now() - freedAt;
    assert.deepEqual([a.total, a.done, a.failed, b.total, b.done, b.failed], [10, 10, 0, 4, 4, 0], JSON.stringify({ a: a.errors, b: b.errors }));
    await waitFor('the banner to go', async () => !(await alerts()).some((x) => x.kind === 'disk-full'), 10_000);
    // /readyz reads the disk on its own schedule: ready again soon after, not at the same instant.
    await waitFor('/readyz ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
    phase('both batches finished');
    const faulted = new Map([...(await summarize(firstId!)), ...(await summarize(secondId!))]);
    assert.equal(faulted.size, 14);

    // The clean pass: the same photos processed again on a disk with room.
    const clean = await p.ingest({ input: all, force: true });
    await finished(clean.batchId);
    assert.deepEqual(faulted, await summarize(clean.batchId), 'every result equals the clean pass');
    assert.ok([...faulted.values()].every((v) => !v.startsWith('error')));
    const log = readFileSync(join(dataDir, 'logs', 'deployment.log'), 'utf8');
    assert.doesNotMatch(log, /Unhandled 'error' event/);
    t.diagnostic(`disk full for ${Math.round(fullForMs)} ms; all 14 photos done ${Math.round(recoveredMs)} ms after space was freed; scenario ${Math.round(performance.now() - started)} ms`);

    phase('clean pass compared');
    // kill -9 of the deployment process: redis-server (parent-death signal) and the workers (parent watchdog) go too.
    await p.close();
    producer = undefined;
    const children = record.childPids;
    assert.ok(children.length >= 4, `workers and redis-server recorded: ${children.join(',')}`);
    process.kill(record.pid, 'SIGKILL');
    const killedAt = performance.now();
    // A zombie (exited, not yet reaped by whoever inherited it) counts as gone.
    const running = (pid: number) => processAlive(pid) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const alive = () => children.filter((pid) => { try { return running(pid); } catch { return false; } });
    await waitFor('the children to exit', async () => alive().length === 0, 30_000).catch((err: Error) => {
      const left = alive().map((pid) => { try { return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`; } catch { return `${pid}`; } });
      throw new Error(`${err.message}: still running ${left.join('; ')}`);
    });
    t.diagnostic(`children gone ${Math.round(performance.now() - killedAt)} ms after kill -9`);
    rmSync(join(dataDir, 'deployment.json'), { force: true });
  });
});
