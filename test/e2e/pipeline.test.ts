import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { objectKeys } from '@facepipe/core';
import { FaceIndex, FaceLibrary } from '@facepipe/face-index';
import { fileListItems, labelFace } from '@facepipe/producer';
import { freshShellEnv, runCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.js';

const examples = 'recognition/face_recognition_examples';
const skip = missingData(`${examples}/knn_train`, `${examples}/knn_test`, `${examples}/extra_probes`, `${examples}/probe_labels.csv`, 'negatives', 'hard_cases');

/** probe_labels.csv: file → expected names (null for a person not in the gallery, undefined when unlabeled). */
function expectedNames(): Map<string, string[] | 'unlabeled'> {
  const lines = readFileSync(dataPath(examples, 'probe_labels.csv'), 'utf8').trim().split('\n').slice(1);
  const map = new Map<string, string[] | 'unlabeled'>();
  for (const line of lines) {
    const [file, ids] = line.split(',');
    map.set(file!, ids === 'unlabeled' ? 'unlabeled' : ids!.split(';'));
  }
  return map;
}

describe('the pipeline end to end (real Redis, S3 protocol server, models, worker processes)', { skip }, () => {
  let pipeline: TestPipeline;
  const gallery = new Set<string>();

  before(async () => {
    pipeline = await startPipeline();
  });
  after(async () => {
    await pipeline?.stop();
  });

  test('enrolls every knn_train photo and publishes a gallery', async () => {
    const { batchId, batch } = await pipeline.ingestAndWait(dataPath(examples, 'knn_train'), { purpose: 'enroll' });
    assert.equal(batch.failed, 0);
    const report = await pipeline.producer.completeEnrollment(batchId);
    assert.ok(report.items.length >= 9);
    for (const item of report.items) {
      assert.equal(item.status, 'enrolled', `${item.source}: ${item.error?.code}`);
      gallery.add(item.person);
    }
    assert.deepEqual([...gallery].sort(), ['alex_lacamoire', 'biden', 'kit_harington', 'obama', 'rose_leslie']);
    assert.equal(report.galleryVersion, 1);
  });

  test('names the people in knn_test and extra_probes as probe_labels.csv says (a name, or on weak evidence a suggestion of that person; never a wrong name)', async () => {
    const expected = expectedNames();
    let checked = 0;
    const suggested: string[] = [];
    const missed: string[] = [];
    for (const folder of ['knn_test', 'extra_probes']) {
      const { batch, results } = await pipeline.ingestAndWait(dataPath(examples, folder));
      assert.equal(batch.failed, 0);
      for (const r of results) {
        const want = expected.get(`${folder}/${r.source}`);
        assert.ok(want, `no label for ${folder}/${r.source}`);
        const faces = r.result?.faces ?? [];
        // A name, or a suggestion where the evidence is weaker, counts as found; either must be the
        // right person. A labelled person may stay unknown on weak evidence (alex-lacamoire.png is
        // 0.52 from his only example), never be named wrong. Rose Leslie in kit_with_rose.jpg is
        // 0.46 from the nearer of her two examples: a suggestion since the name threshold was
        // calibrated on strangers over many sets of enrolled people (docs/recognition.md).
        const found = faces
          .map((f) => f.name ?? f.suggestion?.name ?? null)
          .filter((n): n is string => n !== null)
          .sort();
        for (const f of faces) if (f.name === null && f.suggestion) suggested.push(`${folder}/${r.source}: ${f.suggestion.name} at ${f.suggestion.distance}`);
        if (want === 'unlabeled') {
          assert.equal(faces.length, 1, `${r.source}: one face expected`);
        } else {
          const known = want.filter((n) => gallery.has(n)).sort();
          const message = `${folder}/${r.source}: found ${found.join(';') || 'nobody'}, expected ${known.join(';') || 'unknown'}`;
          assert.ok(found.every((n) => known.includes(n)) && new Set(found).size === found.length, message);
          if (found.length < known.length) missed.push(message);
          assert.ok(faces.length >= want.length, `${r.source}: ${faces.length} faces for ${want.length} people`);
        }
        checked += 1;
      }
    }
    assert.equal(checked, 17);
    assert.ok(suggested.length + missed.length <= 2, `at most two labelled faces only suggested or left unknown: suggested ${suggested.join(' / ') || 'none'}; ${missed.join(' / ')}`);
  });

  test('negatives: every photo has a result that says "no faces"', async () => {
    const { batch, results } = await pipeline.ingestAndWait(dataPath('negatives'));
    assert.ok(batch.total >= 16);
    assert.equal(batch.failed, 0);
    for (const r of results) {
      assert.equal(r.result?.status, 'done', r.source);
      assert.equal(r.result?.faceCount, 0, `${r.source} has ${r.result?.faceCount} faces`);
      assert.deepEqual(r.result?.faces, []);
      assert.ok(r.result?.processedAt, 'a processed image with no faces is recorded as processed');
    }
  });

  test('hard cases: each file succeeds or fails with its typed reason, and the batch completes', async () => {
    const { batch, results } = await pipeline.ingestAndWait(dataPath('hard_cases'));
    assert.ok(batch.finishedAt, 'batch finished');
    assert.equal(batch.done + batch.failed, batch.total);
    const bySource = new Map(results.map((r) => [r.source, r]));
    const codeOf = (s: string) => bySource.get(s)?.error?.code ?? bySource.get(s)?.result?.error?.code;
    assert.equal(codeOf('compreface_formats/corrupted.png'), 'CORRUPT_IMAGE');
    assert.equal(codeOf('compreface_formats/truncated.jpg'), 'TRUNCATED_IMAGE');
    assert.ok(['NOT_AN_IMAGE', 'EMPTY_INPUT'].includes(codeOf('compreface_formats/empty.png') ?? ''));
    for (const format of ['jpeg', 'png', 'bmp', 'gif', 'tiff', 'webp', 'ico']) {
      const r = bySource.get(`compreface_formats/einstein.${format}`);
      assert.equal(r?.result?.status, 'done', `einstein.${format}`);
      assert.equal(r?.result?.faceCount, 1, `einstein.${format}`);
    }
    for (const r of results) {
      const ok = r.result?.status === 'done' || ['CORRUPT_IMAGE', 'TRUNCATED_IMAGE', 'NOT_AN_IMAGE', 'EMPTY_INPUT', 'UNSUPPORTED_FORMAT'].includes(r.error?.code ?? r.result?.error?.code ?? '');
      assert.ok(ok, `${r.source}: ${JSON.stringify(r.error ?? r.result?.error)}`);
    }
  });

  test('the same bytes again are answered from their results, not processed twice', async () => {
    const detectBefore = (await pipeline.producer.ctx.queues.detect.getMetrics('completed')).meta.count;
    const { batch } = await pipeline.ingestAndWait(dataPath(examples, 'knn_test'));
    assert.equal(batch.cached, batch.total);
    assert.equal(batch.done, batch.total);
    const detectAfter = (await pipeline.producer.ctx.queues.detect.getMetrics('completed')).meta.count;
    assert.equal(detectAfter, detectBefore, 'no detect job ran');
  });

  test('a result document holds boxes, landmarks, crops, embeddings with model versions, and timings', async () => {
    const { results } = await pipeline.ingestAndWait(dataPath(examples, 'knn_test'));
    const r = results.find((x) => x.source === 'obama_and_biden.jpg')!.result!;
    assert.equal(r.faceCount, 2);
    assert.ok(r.versions.detect?.detector.startsWith('ssd_mobilenetv1@'));
    assert.ok(r.versions.embed?.recognition.startsWith('face_recognition@'));
    assert.equal(r.versions.gallery, 1);
    for (const face of r.faces) {
      assert.equal(face.landmarks.length, 68);
      assert.equal(face.embedding.length, 128);
      assert.equal(face.embeddingModel, r.versions.embed?.recognition);
      assert.ok(face.match.distance !== null && face.match.distance < 0.6);
    }
    const chips = await pipeline.producer.ctx.store.getBytes(r.faces[0]!.cropKey);
    const meta = await sharp(chips).metadata();
    assert.equal(meta.format, 'webp');
    assert.equal(meta.width, 150);
    assert.equal(meta.height, 300);
    // The stages' own documents are gone once the result holds what they held.
    const left: string[] = [];
    for await (const o of pipeline.producer.ctx.store.list(`faces/${r.imageId}/`)) left.push(o.key);
    for await (const o of pipeline.producer.ctx.store.list(`embeddings/${r.imageId}/`)) left.push(o.key);
    assert.deepEqual(left, [r.faces[0]!.cropKey], 'only the chips are kept');
    assert.match(r.faces[0]!.cropKey, /\/chips-view\.webp$/, 'as their display rendition (the exact chips went once embedded)');
    for (const key of ['detect.decodeMs', 'detect.detectMs', 'embed.embedMs', 'classifyMs', 'totalMs']) assert.equal(typeof r.timings[key], 'number', key);
  });

  test('a name given by hand survives a forced re-run', async () => {
    const first = await pipeline.ingestAndWait(dataPath(examples, 'knn_test'));
    const kit = first.results.find((x) => x.source === 'kit_with_rose.jpg')!;
    // Rose Leslie's face: named, or on weaker evidence (she has two examples) suggested.
    const face = kit.result!.faces.find((f) => (f.name ?? f.suggestion?.name) === 'rose_leslie')!;
    const index = await FaceIndex.connect({ url: pipeline.database!.url });
    try {
      await labelFace(pipeline.producer.ctx.store, kit.imageId!, face.index, 'Rose Leslie', 'test', new FaceLibrary(index));
    } finally {
      await index.close();
    }
    const again = await pipeline.ingestAndWait(dataPath(examples, 'knn_test'), { force: true });
    assert.equal(again.batch.cached, 0, 'forced: processed again');
    const rerun = again.results.find((x) => x.source === 'kit_with_rose.jpg')!.result!;
    const same = rerun.faces.find((f) => f.index === face.index)!;
    assert.equal(same.name, 'Rose Leslie');
    assert.equal(same.label?.by, 'test');
    // The automatic answer is still recorded beside the label: its name where it named her, its distance.
    assert.equal(same.match.name, face.name === 'rose_leslie' ? 'rose_leslie' : null);
    assert.ok(same.match.distance !== null && same.match.distance < 0.5, `match ${JSON.stringify(same.match)}`);
    assert.ok(await pipeline.producer.ctx.store.head(objectKeys.labels(kit.imageId!)));
  });

  test('re-classifying after a new enrollment names faces that were unknown, and keeps given names', async () => {
    const probe = dataPath(examples, 'extra_probes', 'lin-manuel-miranda.png');
    const { producer } = pipeline;
    // First a preview through the CLI: the photo is processed, what it would name is listed, nothing is enrolled.
    const preview = await runCli(['enroll', '--name', 'lin_manuel_miranda', probe, '--preview', '--json'], { cwd: tmpdir(), env: freshShellEnv(pipeline.env) });
    assert.equal(preview.code, 0, preview.stderr);
    const changes = preview.stdout.trim().split('\n').map((l) => JSON.parse(l) as { person: string; source: string; after: { name: string | null; how: string | null } });
    assert.ok(changes.some((c) => c.person === 'lin_manuel_miranda' && c.after.how === 'enrolled' && c.after.name === 'lin_manuel_miranda'), preview.stdout);
    assert.ok(changes.every((c) => c.after.name === 'lin_manuel_miranda' || c.after.name === null), preview.stdout);
    const previewIndex = await FaceIndex.connect({ url: pipeline.database!.url });
    try {
      assert.equal(await previewIndex.repos.people.byName('lin_manuel_miranda'), undefined, 'the preview enrolled nobody');
    } finally {
      await previewIndex.close();
    }
    const enroll = await producer.ingestItems(fileListItems([probe], 'lin_manuel_miranda'), { purpose: 'enroll', sourceLabel: 'enroll lin' });
    await producer.waitForBatch(enroll.batchId);
    const report = await producer.completeEnrollment(enroll.batchId);
    assert.equal(report.items[0]?.status, 'enrolled');
    const { batchId, total } = await producer.reindexer().run('classify');
    assert.ok(total >= 10, `${total} images re-classified`);
    const batch = await producer.waitForBatch(batchId);
    assert.equal(batch.done, total);
    const imageId = report.items[0]!.imageId!;
    const result = await pipeline.result(imageId);
    assert.equal(result?.faces[0]?.name, 'lin_manuel_miranda');
    assert.equal(result?.versions.gallery, report.galleryVersion);
    // The name given by hand in the previous test is still there.
    const knn = await pipeline.ingestAndWait(dataPath(examples, 'knn_test'));
    const kit = knn.results.find((x) => x.source === 'kit_with_rose.jpg')!.result!;
    assert.ok(kit.faces.some((f) => f.name === 'Rose Leslie'));
  });
});
