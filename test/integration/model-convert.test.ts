import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacepipeError } from '@facepipe/core';
import { loadModelManifest, loadSsdAnchors, MODEL_NAMES, SSD_ANCHOR_COUNT } from '@facepipe/vision';
import { convertModels, CONVERTER_VERSION } from '../../packages/vision/dist/convert/convert.js';

test('the converter writes a verifiable manifest, skips when current and is deterministic', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facepipe-models-'));
  try {
    const first = await convertModels({ outDir: dir });
    assert.equal(first.skipped, false);
    const manifest = await loadModelManifest(dir);
    assert.equal(manifest.converter.version, CONVERTER_VERSION);
    for (const name of MODEL_NAMES) {
      const m = manifest.models[name];
      const from = name === 'object_centernet' ? 'human-3\\.3\\.6' : 'face-api-1\\.7\\.15';
      assert.match(m.version, new RegExp(`^${name}@${from}\\+${m.sha256.slice(0, 8)}$`));
      assert.ok(m.source.files.length >= 2, `${name} lists its source files`);
    }
    const anchors = await loadSsdAnchors(manifest);
    assert.equal(anchors.length, SSD_ANCHOR_COUNT * 4);

    const t0 = performance.now();
    const second = await convertModels({ outDir: dir });
    assert.equal(second.skipped, true);
    console.log(`[convert] skip check took ${(performance.now() - t0).toFixed(0)} ms`);

    const forced = await convertModels({ outDir: dir, force: true });
    assert.equal(forced.skipped, false);
    for (const name of MODEL_NAMES) assert.equal(forced.manifest.models[name].sha256, manifest.models[name].sha256, `${name} bytes are reproducible`);

    // the build's own models came from the same converter: same bytes
    const built = await loadModelManifest(undefined, { verify: false });
    if (built.converter.version === CONVERTER_VERSION) {
      for (const name of MODEL_NAMES) assert.equal(built.models[name].version, manifest.models[name].version);
    }

    // damage a file: loading fails fast and says how to fix it
    const file = join(dir, manifest.models.face_landmark_68.file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    await assert.rejects(loadModelManifest(dir), (err: unknown) => {
      assert.ok(err instanceof FacepipeError);
      assert.equal(err.code, 'MODEL_ERROR');
      assert.match(err.message, /face_landmark_68\.onnx has sha256/);
      assert.match(err.message, /npm run build/);
      return true;
    });
    // … and the converter repairs it without --force
    assert.equal((await convertModels({ outDir: dir })).skipped, false);
    await loadModelManifest(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing or malformed manifest is a MODEL_ERROR naming npm run build', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facepipe-models-'));
  try {
    await assert.rejects(loadModelManifest(dir), /manifest\.json cannot be read.*npm run build/s);
    await writeFile(join(dir, 'manifest.json'), '{"converter": {"name": "x", "version": "1"}, "models": {}}');
    await assert.rejects(loadModelManifest(dir), /ssd_mobilenetv1 is missing/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
