import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionGate, ConfigError, DiskSpaceMonitor, type DiskReading, describeDisk, diskState, FacepipeError, FacepipeMetrics, isStorageFull, loadConfig, LogFile, parseWatchedDirs, storageFullReason } from '@facepipe/core';
import { dashboardAlerts, statusForCode } from '@facepipe/service';

const errno = (code: string) => Object.assign(new Error(`${code}: failed, write`), { code, errno: -28, syscall: 'write' });

test('out of space is recognised in every writer\'s shape', () => {
  for (const code of ['ENOSPC', 'EDQUOT', 'EROFS']) assert.equal(storageFullReason(errno(code)), code);
  // Redis refusing writes after a failed append-only-file write, or at maxmemory (ioredis ReplyError).
  const misconf = Object.assign(new Error('MISCONF Errors writing to the AOF file: No space left on device'), { name: 'ReplyError' });
  assert.equal(storageFullReason(misconf), 'Redis MISCONF');
  const oom = Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
  assert.equal(storageFullReason(oom), 'Redis OOM');
  // An S3 server answering 507 (facepipe's own, MinIO), through the SDK or the light client.
  assert.equal(storageFullReason(Object.assign(new Error('x'), { name: 'InsufficientStorage', $metadata: { httpStatusCode: 507 } })), 'S3 InsufficientStorage');
  assert.equal(storageFullReason(Object.assign(new Error('HTTP 507'), { status: 507 })), 'S3 507 Insufficient Storage');
  assert.equal(storageFullReason(Object.assign(new Error('x'), { name: 'S3ServiceException', Code: 'x', $metadata: { httpStatusCode: 507 } })), 'S3 507 Insufficient Storage');
  assert.equal(storageFullReason(Object.assign(new Error('XMinioStorageFull'), { code: 'XMinioStorageFull' })), 'S3 XMinioStorageFull');
  // PostgreSQL / PGlite: disk_full, or the file system's message inside another error.
  assert.equal(storageFullReason(Object.assign(new Error('could not extend file "base/1/2": No space left on device'), { code: '53100' })), 'PostgreSQL disk_full');
  assert.equal(storageFullReason(new Error('could not write block 12 of relation: No space left on device')), 'no space left');
  // Wrapped: found through `cause`.
  assert.equal(storageFullReason(new Error('put failed', { cause: new Error('inner', { cause: errno('ENOSPC') }) })), 'ENOSPC');
  // Not out of space.
  for (const err of [errno('ENOENT'), errno('EACCES'), new Error('connect ECONNREFUSED'), Object.assign(new Error('MISCONFIGURED thing'), { name: 'Error' }), Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }), null, undefined, 'ENOSPC']) {
    assert.equal(isStorageFull(err), false, String(err));
  }
});

test('FacepipeError.from types out-of-space as STORAGE_FULL, retryable; typed errors are kept', () => {
  const full = FacepipeError.from(errno('ENOSPC'));
  assert.equal(full.code, 'STORAGE_FULL');
  assert.equal(full.retryable, true);
  assert.match(full.message, /ENOSPC.*free space/);
  assert.equal(FacepipeError.from(errno('EROFS'), 'STORAGE_UNAVAILABLE').code, 'STORAGE_FULL');
  assert.equal(FacepipeError.from(new Error('boom')).code, 'INTERNAL');
  assert.equal(FacepipeError.from(new FacepipeError('NOT_AN_IMAGE')).code, 'NOT_AN_IMAGE');
  const missing = new FacepipeError('STORED_OBJECT_MISSING');
  assert.equal(missing.retryable, true, 'a store failure is never blamed on the input');
  assert.equal(new FacepipeError('OBJECT_NOT_FOUND').retryable, false);
  assert.equal(statusForCode('STORAGE_FULL'), 503);
  assert.equal(statusForCode('STORED_OBJECT_MISSING'), 503);
});

test('disk states, watched dirs and their settings', () => {
  const MiB = 1024 * 1024;
  assert.equal(diskState(0, 1024 * MiB, 0), 'full');
  assert.equal(diskState(10 * MiB, 1024 * MiB, 16 * MiB), 'full');
  assert.equal(diskState(100 * MiB, 1024 * MiB, 16 * MiB), 'low');
  assert.equal(diskState(2048 * MiB, 1024 * MiB, 16 * MiB), 'ok');
  assert.deepEqual(parseWatchedDirs('/data, /data/s3=4096,', 1024), [
    { path: '/data', warnFreeBytes: 1024 },
    { path: '/data/s3', warnFreeBytes: 4096 * MiB },
  ]);
  const config = loadConfig({ FACEPIPE_DATA_DIRS: '/a,/b=2', FACEPIPE_DISK_WARN_FREE_MB: '100', FACEPIPE_DISK_FULL_FREE_MB: '1' });
  assert.deepEqual(config.disk, { dirs: [{ path: '/a', warnFreeBytes: 100 * MiB }, { path: '/b', warnFreeBytes: 2 * MiB }], warnFreeBytes: 100 * MiB, fullFreeBytes: MiB });
  assert.throws(() => loadConfig({ FACEPIPE_DATA_DIRS: '/a=lots' }), (err: unknown) => err instanceof ConfigError && /not a number of MiB/.test(err.message));
  assert.match(describeDisk({ path: '/d', state: 'full', freeBytes: 0, totalBytes: 8 * MiB, warnFreeBytes: MiB }), /^disk full: \/d has 0\.0 MiB free of 8\.0 MiB/);
});

test('the monitor reads each file system once, exports gauges, and the dashboard raises banners', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-disk-'));
  try {
    const metrics = new FacepipeMetrics('test');
    // A warning level above any disk's size: "low" for sure; the same file system named twice is read once.
    const huge = Number.MAX_SAFE_INTEGER;
    const monitor = new DiskSpaceMonitor([{ path: dir, warnFreeBytes: huge }, { path: tmpdir(), warnFreeBytes: huge }, { path: join(dir, 'missing'), warnFreeBytes: 0 }], { fullFreeBytes: 0 });
    monitor.exportMetrics(metrics.registry);
    const readings = await monitor.readings();
    assert.equal(readings.filter((r) => !r.error).length, 1);
    assert.equal(readings[0]!.state, 'low');
    assert.ok(readings[0]!.freeBytes > 0 && readings[0]!.totalBytes >= readings[0]!.freeBytes);
    assert.equal(readings[1]!.error, 'ENOENT');
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`facepipe_disk_low\\{dir="${dir}",service="test"\\} 1`));
    assert.match(text, new RegExp(`facepipe_disk_full\\{dir="${dir}",service="test"\\} 0`));
    assert.match(text, /facepipe_data_dir_free_bytes\{dir="[^"]+",service="test"\} \d+/);
    const alerts = dashboardAlerts([], [], { failureRate: 0.1, windowMinutes: 15, stallSeconds: 120 }, {
      disks: [
        { ...readings[0]!, state: 'low' },
        { path: '/full', state: 'full', freeBytes: 0, totalBytes: 1, warnFreeBytes: 1 },
      ],
    });
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity, a.dir]), [['disk-full', 'error', '/full'], ['disk-low', 'warning', dir]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full data dir holds admission back before anything enters, and lets it go once freed', async () => {
  const fullDisk: DiskReading = { path: '/data/s3', state: 'full', freeBytes: 0, totalBytes: 1, warnFreeBytes: 1 };
  let full: DiskReading[] = [fullDisk];
  const queues = { byName: () => ({ getWaitingCount: async () => 0 }) } as unknown as ConstructorParameters<typeof AdmissionGate>[0];
  const told: string[][] = [];
  const gate = new AdmissionGate(queues, { detect: 10, embed: 10, classify: 10 }, { disk: { full: async () => full }, onHeld: (r) => told.push(r) });
  assert.deepEqual((await gate.state()).diskFull, [fullDisk]);
  let entered = false;
  let admitted = false;
  const entry = gate.untilDiskHasRoom().then(() => (entered = true));
  const admit = gate.admit('detect', 1, async () => (admitted = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(entered, false, 'no item enters while the disk is full');
  assert.equal(admitted, false, 'no job is queued while the disk is full');
  full = [];
  await Promise.all([entry, admit]);
  assert.ok(entered && admitted);
  assert.deepEqual(told[0], ['disk full /data/s3']);
  assert.deepEqual(told.at(-1), []);
  // Without a disk check, the entry is open at once.
  await new AdmissionGate(queues, { detect: 10, embed: 10, classify: 10 }).untilDiskHasRoom();
});

test('a log file on a full disk drops lines and says so later, never an error event', async () => {
  // /dev/full answers every write with ENOSPC.
  const full = new LogFile('/dev/full');
  let errors = 0;
  full.on('error', () => (errors += 1));
  full.writeLine('{"msg":"one"}');
  await new Promise<void>((resolve) => full.write('two\n', () => resolve()));
  await new Promise<void>((resolve) => full.end(resolve));
  assert.equal(errors, 0);
  // The second write carried the note about the first one's loss: it was dropped too.
  assert.ok(full.droppedBytes > '{"msg":"one"}\n'.length + 'two\n'.length, String(full.droppedBytes));
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-log-'));
  try {
    const file = join(dir, 'a.log');
    const log = new LogFile(file);
    log.writeLine('line 1');
    await new Promise<void>((resolve) => log.end(resolve));
    assert.equal(readFileSync(file, 'utf8'), 'line 1\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
