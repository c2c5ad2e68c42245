import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { closeRedis, createRedisConnection, S3ObjectStore } from '@facepipe/core';
import { LocalStack, writeDeploymentRecord, type DeploymentCredentials } from '@facepipe/devstack';
import { freshShellEnv, runCli } from '../helpers/cli.js';
import type { StoreProbe } from '../helpers/probe-deployment-stores.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const asOtherUser = !isRoot ? 'not root: cannot run a probe as another user' : !existsSync('/usr/bin/setpriv') ? 'setpriv (util-linux) is missing' : false;

/** Runs a command to its end (killed after 60 s), collecting its output. */
function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, HOME: '/tmp' }, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every path under `dir` whose mode gives group or others any access. */
function openToOthers(dir: string): string[] {
  const open: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if ((stat.mode & 0o077) !== 0 && !stat.isSocket()) open.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) open.push(...openToOthers(path));
  }
  return open;
}

test('a local deployment only its owner can use: open data dir refused; Redis, database, S3 and files refuse another local user', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'facepipe-owner-'));
  chmodSync(root, 0o755); // others may walk to the data dir: only its own mode keeps them out
  const dataDir = join(root, 'data');
  let stack: LocalStack | undefined;
  try {
    // A data dir others can read is refused before anything starts: one line, the fix, exit 2.
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const refused = await runCli(['up', '--data-dir', dataDir], { cwd: root });
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`open to other users \\(mode 755\\).*chmod 700 ${dataDir}`));
    assert.ok(!existsSync(join(dataDir, 'credentials.json')), 'nothing was written');
    chmodSync(dataDir, 0o700);

    // The stores as `facepipe up` starts them (persistent Redis), with the credentials made on this first start.
    stack = await LocalStack.start({ dataDir, env: freshShellEnv(), persistentRedis: true });
    writeDeploymentRecord(dataDir, { schema: 'facepipe.deployment/1', state: 'ready', pid: process.pid, childPids: stack.childPids, env: stack.env, startedAt: new Date().toISOString() });
    const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as DeploymentCredentials;
    assert.ok(stack.env.REDIS_URL!.includes(`:${credentials.redisPassword}@`));
    assert.equal(stack.env.S3_SECRET_ACCESS_KEY, credentials.s3SecretAccessKey);
    assert.doesNotMatch(stack.describe, new RegExp(credentials.redisPassword), 'the password is not printed');

    // The owner, with the credentials, writes into each store (so there are files to find).
    const redis = createRedisConnection(stack.env.REDIS_URL!, 'client');
    await redis.set('facepipe:probe', 'secret');
    await closeRedis(redis);
    const store = S3ObjectStore.fromConfig(stack.config.s3);
    await store.ensureBucket();
    await store.put('originals/face.jpg', Buffer.from('a face'));
    await store.close();
    const db = new pg.Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
    await db.query('create table faces (id int); insert into faces values (1)');
    await db.end();
    // Everything under the data dir is owner-only: this process, redis-server and PGlite wrote with umask 077.
    assert.equal(lstatSync(dataDir).mode & 0o777, 0o700);
    assert.deepEqual(openToOthers(dataDir), []);

    // Three processes at once (each is a Node start): the owner's CLI, which finds the credentials
    // in the deployment file and is let in; a CLI given REDIS_URL without the password, which gets
    // one actionable line (exit 2); and another local user, who knows what anyone can see (ports,
    // paths, the key id) and is refused by every store.
    const bare = new URL(stack.env.REDIS_URL!);
    bare.username = '';
    bare.password = '';
    const s3Settings = Object.fromEntries(Object.entries(stack.env).filter(([k]) => k.startsWith('S3_')));
    const [status, noPassword, probed] = await Promise.all([
      runCli(['status', '--data-dir', dataDir], { cwd: root }),
      runCli(['status'], { cwd: root, env: freshShellEnv({ REDIS_URL: bare.toString(), ...s3Settings }) }),
      asOtherUser
        ? undefined
        : run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', 'test/helpers/probe-deployment-stores.ts', dataDir, bare.toString(), stack.env.S3_ENDPOINT!, stack.env.S3_ACCESS_KEY_ID!, stack.env.DATABASE_URL!]),
    ]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^queue\s+waiting/m);
    assert.equal(noPassword.code, 2, noPassword.stderr);
    assert.match(noPassword.stderr, /^facepipe status: Redis refused the credentials \(NOAUTH\/WRONGPASS\): REDIS_URL must carry the password/);
    assert.doesNotMatch(noPassword.stderr, /\n\s+at /);

    if (!probed) return;
    assert.equal(probed.code, 0, probed.stderr);
    const probe = JSON.parse(probed.stdout) as StoreProbe;
    assert.match(probe.redisNoPassword, /^-NOAUTH/);
    assert.match(probe.redisWrongPassword, /^-WRONGPASS/);
    assert.equal(probe.database, 'EACCES', 'the database socket lies inside the 0700 data dir');
    assert.deepEqual(probe.s3Unsigned, { status: 403, code: 'AccessDenied' });
    assert.deepEqual(probe.s3Forged, { status: 403, code: 'SignatureDoesNotMatch' });
    assert.deepEqual(probe.s3ForgedPut, { status: 403, code: 'SignatureDoesNotMatch' });
    for (const [what, outcome] of Object.entries(probe.files)) assert.equal(outcome, 'EACCES', what);
  } finally {
    await stack?.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
