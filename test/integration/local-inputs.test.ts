import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { fileSystemError, Logger, MemoryObjectStore, readBatchManifest, readLocalFile } from '@facepipe/core';
import { Ingestor, LocalFolderSource, type IngestItem } from '@facepipe/producer';
import { probeImage } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';
import { buildInputFolder, INPUT_FOLDER_ENTRIES_AS_ROOT, INPUT_FOLDER_ENTRIES_AS_USER, INPUT_FOLDER_SKIPS, type InputFolder } from '../helpers/input-folder.js';
import { readAllInputs } from '../helpers/read-local-inputs.js';
import { testIntake, trackerFixture, type IntakeQueues } from '../helpers/tracker.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const PHOTO = 'hard_cases/compreface_formats/einstein.jpeg';
const skip = missingData(PHOTO);
const isRoot = process.getuid?.() === 0;
const expectedHere = isRoot ? INPUT_FOLDER_ENTRIES_AS_ROOT : INPUT_FOLDER_ENTRIES_AS_USER;
const fixture = trackerFixture();
let folder: InputFolder;

before(async () => {
  if (!skip) folder = await buildInputFolder(dataPath(PHOTO));
});
after(async () => {
  await folder?.close();
});

const codes = (entries: { source: string; code?: string }[]) => entries.map((e): [string, string | undefined] => [e.source, e.code]);

test('every folder entry is an input with its typed error, or a counted skip', { skip, timeout: 30_000 }, async () => {
  const { entries, skips } = await readAllInputs(folder.root);
  assert.deepEqual(codes(entries), expectedHere);
  assert.deepEqual(skips, INPUT_FOLDER_SKIPS);
  const size = entries[0]!.bytes!;
  assert.ok(size > 1000);
  assert.equal(entries[1]!.bytes, size, 'the link is followed to the photo');
});

test('as a user without permission: the chmod 000 file and folder are NOT_READABLE (setpriv to nobody)', {
  skip: skip || (!isRoot ? 'not root: the test above already ran with permissions applied' : !existsSync('/usr/bin/setpriv') ? 'setpriv (util-linux) is missing' : false),
  timeout: 60_000,
}, () => {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', 'test/helpers/read-local-inputs.ts', folder.root], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 50_000,
    env: { ...process.env, HOME: '/tmp' },
  });
  assert.equal(r.status, 0, r.stderr);
  const { entries, skips } = JSON.parse(r.stdout) as Awaited<ReturnType<typeof readAllInputs>>;
  assert.deepEqual(codes(entries), INPUT_FOLDER_ENTRIES_AS_USER);
  assert.deepEqual(skips, INPUT_FOLDER_SKIPS);
});

test('readLocalFile: a FIFO is refused at once (never opened for a blocking read); a folder is NOT_A_FILE; limits before reading', { skip, timeout: 10_000 }, async () => {
  await assert.rejects(readLocalFile(join(folder.root, 'e-fifo.jpg')), { code: 'NOT_A_FILE', message: /FIFO/ });
  await assert.rejects(readLocalFile(join(folder.root, 'f-socket.jpg')), { code: 'NOT_A_FILE', message: /socket/ });
  await assert.rejects(readLocalFile(join(folder.root, 'sub')), { code: 'NOT_A_FILE', message: /folder/ });
  await assert.rejects(readLocalFile('/dev/null'), { code: 'NOT_A_FILE', message: /character device/ });
  await assert.rejects(readLocalFile(join(folder.root, 'c-dangling.jpg')), { code: 'OBJECT_NOT_FOUND', message: /symbolic link to a file that does not exist/ });
  await assert.rejects(readLocalFile(join(folder.root, 'a-good.jpg'), { maxBytes: 100 }), { code: 'FILE_TOO_LARGE' });
  await assert.rejects(readLocalFile(join(folder.root, 'empty.jpg'), { rejectEmpty: true }), { code: 'EMPTY_INPUT' });
  assert.equal((await readLocalFile(join(folder.root, 'empty.jpg'))).length, 0);
  await assert.rejects(LocalFolderSource.open(join(folder.root, 'no-such-folder')), { code: 'OBJECT_NOT_FOUND' });
});

function ingestor(store: MemoryObjectStore): Ingestor {
  const waiting = { getWaitingCount: async () => 0 };
  const queues = {
    addDetectBulk: async () => undefined,
    reclassify: async () => undefined,
    clearFinishedJobs: async () => undefined,
    byName: () => waiting,
  } as unknown as IntakeQueues;
  return new Ingestor({
    intake: testIntake(fixture, store, queues, 'p-inputs-1'),
    store,
    log: new Logger({ level: 'silent' }),
    probe: (bytes) => probeImage(bytes, { maxPixels: 1e8 }),
    maxBytes: 1 << 26,
  });
}

test('folder ingest: one manifest line per input, each odd entry a permanent typed failure, skips counted, nothing aborts', { skip, timeout: 60_000 }, async () => {
  const store = new MemoryObjectStore('inputs-test');
  const source = await LocalFolderSource.open(folder.root);
  const batchId = 'binputs1x00';
  const { total } = await ingestor(store).ingest(source, { batchId, purpose: 'ingest', sourceLabel: folder.root, concurrency: 4 });
  assert.equal(total, expectedHere.length);
  const lines: [string, string | undefined][] = [];
  for await (const entry of readBatchManifest(store, batchId)) lines.push([entry.source, entry.error?.code]);
  assert.deepEqual(lines, expectedHere);
  assert.deepEqual(source.skips.nonZero(), INPUT_FOLDER_SKIPS);
  const batch = await fixture.tracker.getBatch(batchId);
  assert.equal(batch?.failed, expectedHere.filter(([, code]) => code).length);
});

test('folder ingest: a permission error (EACCES, as a non-root read gets it) is a NOT_READABLE line, not an abort', { timeout: 30_000 }, async () => {
  const store = new MemoryObjectStore('inputs-test-2');
  const eacces = Object.assign(new Error("EACCES: permission denied, open 'locked.jpg'"), { code: 'EACCES' });
  const items: IngestItem[] = [
    { source: 'locked.jpg', read: () => Promise.reject(fileSystemError(eacces, 'locked.jpg')) },
    { source: 'after.jpg', read: async () => Buffer.from('not an image') },
  ];
  const batchId = 'binputs2x00';
  const { total } = await ingestor(store).ingest((async function* () { yield* items; })(), { batchId, purpose: 'ingest', sourceLabel: 'x' });
  assert.equal(total, 2);
  const lines: [string, string | undefined][] = [];
  for await (const entry of readBatchManifest(store, batchId)) lines.push([entry.source, entry.error?.code]);
  assert.deepEqual(lines, [['locked.jpg', 'NOT_READABLE'], ['after.jpg', 'NOT_AN_IMAGE']]);
});
