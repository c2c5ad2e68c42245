import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { batchResults } from '@facepipe/producer';
import { dataPath, missingData } from '../helpers/data.js';
import { buildInputFolder, INPUT_FOLDER_ENTRIES_AS_ROOT, INPUT_FOLDER_ENTRIES_AS_USER, INPUT_FOLDER_SKIPS, type InputFolder } from '../helpers/input-folder.js';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.js';

const PHOTO = 'hard_cases/compreface_formats/einstein.jpeg';
const PORTRAIT = 'recognition/face_recognition_examples/knn_test/obama1.jpg';
const skip = missingData(PHOTO, PORTRAIT);
const heifEnc = !spawnSync('heif-enc', ['--help']).error;
let folder: InputFolder;
let pipeline: TestPipeline;

before(async () => {
  if (skip) return;
  folder = await buildInputFolder(dataPath(PHOTO));
  if (heifEnc) {
    const r = spawnSync('heif-enc', ['-q', '70', '-o', join(folder.root, 'phone.heic'), dataPath(PORTRAIT)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`heif-enc failed: ${r.stderr}`);
  }
  pipeline = await startPipeline();
});
after(async () => {
  await pipeline?.stop();
  await folder?.close();
});

test('a folder of every kind of entry, through the worker processes: one result per input, typed failures, skips counted, HEIC faces', { skip, timeout: 300_000 }, async () => {
  if (!heifEnc) process.stderr.write('heif-enc is missing (Debian: apt-get install libheif-examples): the HEIC part is not checked\n');
  const { batchId, total, skipped, skippedBy } = await pipeline.producer.ingest({ input: folder.root });
  const expected = [...(process.getuid?.() === 0 ? INPUT_FOLDER_ENTRIES_AS_ROOT : INPUT_FOLDER_ENTRIES_AS_USER)];
  if (heifEnc) expected.splice(expected.findIndex(([name]) => name > 'phone.heic'), 0, ['phone.heic', undefined]);
  assert.equal(total, expected.length);
  assert.equal(skipped, 4);
  assert.deepEqual(skippedBy, INPUT_FOLDER_SKIPS);
  const batch = await pipeline.producer.waitForBatch(batchId);
  assert.equal(batch.done + batch.failed, total, 'the batch finished with every input counted');
  const lines: [string, string | undefined][] = [];
  const faces = new Map<string, number>();
  for await (const { entry, result } of batchResults(pipeline.producer.ctx.store, batchId)) {
    lines.push([entry.source, entry.error?.code ?? (result?.status === 'failed' ? result.error?.code : undefined)]);
    if (result?.status === 'done') faces.set(entry.source, result.faceCount);
  }
  assert.deepEqual(lines, expected);
  assert.equal(faces.get('a-good.jpg'), 1);
  assert.equal(faces.get('b-link.jpg'), 1, 'the link to the photo is followed');
  if (heifEnc) assert.equal(faces.get('phone.heic'), 1, 'the HEIC photo yields its face');
});
