import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';

const facepipe = (args: string[], cwd: string) => runCli(args, { cwd });

const photos = 'recognition/face_recognition_examples/knn_test';

test('`facepipe up`, then ingest --wait, the dashboard shows the batch, `facepipe down`; a second `up` keeps the data', { skip: missingData(photos) }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'facepipe-up-'));
  const dataDir = join(cwd, '.facepipe');
  try {
    // Nothing running and no REDIS_URL: a clear message, not whatever Redis listens on 6379.
    const none = await facepipe(['status'], cwd);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /no local deployment is running in .*facepipe up/);
    assert.doesNotMatch(none.stderr, /\n\s+at /, 'no stack trace');

    const up = await facepipe(['up'], cwd);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const dashboard = /^dashboard: (\S+)$/m.exec(up.stdout)?.[1];
    assert.ok(dashboard, up.stdout);
    assert.ok(existsSync(join(dataDir, 'deployment.json')));

    const ingest = await facepipe(['ingest', dataPath(photos), '--wait', '--json'], cwd);
    assert.equal(ingest.code, 0, ingest.stderr);
    const batch = JSON.parse(ingest.stdout.trim().split('\n').pop()!) as { id: string; total: number; done: number; faces: number };
    assert.equal(batch.total, 5);
    assert.equal(batch.done, 5);
    assert.ok(batch.faces >= 7);

    // The printed URL signs a browser in: it answers with a session cookie and a redirect.
    const signIn = await fetch(dashboard, { redirect: 'manual' });
    assert.equal(signIn.status, 303);
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0];
    assert.ok(cookie, 'a session cookie');
    const base = new URL(dashboard).origin;
    assert.equal((await fetch(`${base}/dashboard/api/overview`)).status, 401, 'the dashboard API needs signing in');
    const overview = (await (await fetch(`${base}/dashboard/api/overview`, { headers: { cookie } })).json()) as { batches: { id: string }[] };
    assert.ok(overview.batches.some((b) => b.id === batch.id), 'the dashboard lists the batch');

    const again = await facepipe(['up'], cwd);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already running/);

    const down = await facepipe(['down'], cwd);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(!existsSync(join(dataDir, 'deployment.json')));
    assert.match(readFileSync(join(dataDir, 'logs', 'deployment.log'), 'utf8'), /deployment stopped/);

    // Restarted, it still knows the batch (Redis's append-only file) and its results (S3 files).
    const up2 = await facepipe(['up'], cwd);
    assert.equal(up2.code, 0, up2.stderr);
    // The same port, so the same URL: bookmarks of the dashboard keep working (kept in <data-dir>/port).
    assert.equal(/^dashboard: (\S+)$/m.exec(up2.stdout)?.[1], dashboard, 'the same dashboard URL after a restart');
    assert.equal(readFileSync(join(dataDir, 'port'), 'utf8').trim(), new URL(dashboard).port);
    const status = await facepipe(['status', batch.id], cwd);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /5\/5 finished, 5 done, 0 failed/);
    const results = await facepipe(['results', batch.id], cwd);
    assert.equal(results.code, 0, results.stderr);
    assert.equal(results.stdout.trim().split('\n').length, 5);
  } finally {
    const down = await facepipe(['down'], cwd);
    assert.equal(down.code, 0, down.stderr);
    rmSync(cwd, { recursive: true, force: true });
  }
});
