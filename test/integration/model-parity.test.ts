/**
 * Parity of the converted ONNX graphs with the reference implementation of the same weights
 * (face-api 1.7.15 on tfjs 4.22, CPU backend), on real photos. Each input tensor is built once
 * (sharp decode, letterbox or crop, resize) and fed to both. Prints the figures for docs/models.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  createSession,
  decodeSsd,
  loadModelManifest,
  loadSsdAnchors,
  type LoadedModelManifest,
  type ModelSession,
} from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';
import { loadFaceApiReference } from '../helpers/face-api-reference.js';

/** Photos, and whether to run the (slow: ~12 s per image in tfjs CPU) SSD reference on each. */
const PHOTOS: { path: string; ssdReference: boolean }[] = [
  { path: 'recognition/face_recognition_examples/knn_test/obama1.jpg', ssdReference: true },
  { path: 'detection/dlib_pascal_training/2008_001322.jpg', ssdReference: true },
  { path: 'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg', ssdReference: false },
  { path: 'recognition/lfw_dev/lfw-deepfunneled/Abel_Aguilar/Abel_Aguilar_0001.jpg', ssdReference: false },
];
/** Face crops per photo for the landmark and recognition comparisons. */
const MAX_FACES = 2;

interface Rgb {
  data: Buffer;
  width: number;
  height: number;
}

async function decode(path: string): Promise<Rgb> {
  const { data, info } = await sharp(path).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** face-api toBatchTensor(size, false): pad bottom/right with zeros to a square, resize to size. */
async function letterbox(img: Rgb, size: number): Promise<Float32Array> {
  const side = Math.max(img.width, img.height);
  // sharp runs resize before extend within one pipeline, so pad first, then resize
  const square = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extend({ right: side - img.width, bottom: side - img.height, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return resizeSquare(square, side, size);
}

async function resizeSquare(square: Buffer, side: number, size: number): Promise<Float32Array> {
  const data = await sharp(square, { raw: { width: side, height: side, channels: 3 } }).resize(size, size, { fit: 'fill' }).raw().toBuffer();
  assert.equal(data.length, size * size * 3);
  return Float32Array.from(data);
}

/** A face crop padded to a centred square (face-api toBatchTensor(size, true)), resized to size. */
async function faceCrop(img: Rgb, [x, y, w, h]: [number, number, number, number], size: number): Promise<Float32Array> {
  const side = Math.max(w, h);
  const left = Math.floor((side - w) / 2);
  const top = Math.floor((side - h) / 2);
  const square = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: x, top: y, width: w, height: h })
    .extend({ left, right: side - w - left, top, bottom: side - h - top, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return resizeSquare(square, side, size);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Top SSD detections (ONNX), as integer pixel boxes inside the image, best first. */
function topFaces(boxes: Float32Array, scores: Float32Array, img: Rgb): [number, number, number, number][] {
  const side = Math.max(img.width, img.height);
  const order = [...scores.keys()].filter((i) => scores[i]! > 0.5).sort((a, b) => scores[b]! - scores[a]!);
  const picked: [number, number, number, number][] = [];
  for (const i of order) {
    const x1 = Math.max(0, Math.round(boxes[i * 4]! * side));
    const y1 = Math.max(0, Math.round(boxes[i * 4 + 1]! * side));
    const x2 = Math.min(img.width, Math.round(boxes[i * 4 + 2]! * side));
    const y2 = Math.min(img.height, Math.round(boxes[i * 4 + 3]! * side));
    if (x2 - x1 < 8 || y2 - y1 < 8) continue;
    // crude overlap filter, enough to avoid cropping the same face twice
    if (picked.some(([px, py, pw, ph]) => Math.abs(px + pw / 2 - (x1 + x2) / 2) < pw / 2 && Math.abs(py + ph / 2 - (y1 + y2) / 2) < ph / 2)) continue;
    picked.push([x1, y1, x2 - x1, y2 - y1]);
    if (picked.length === MAX_FACES) break;
  }
  return picked;
}

const skip = missingData(...PHOTOS.map((p) => p.path));

test('converted models match face-api/tfjs on real photos', { skip }, async () => {
  const { tf, faceapi } = await loadFaceApiReference();
  assert.equal(tf.getBackend(), 'cpu');
  const manifest: LoadedModelManifest = await loadModelManifest();
  const anchors = await loadSsdAnchors(manifest);
  const sessions: Record<string, ModelSession> = {};
  for (const name of ['ssd_mobilenetv1', 'tiny_face_detector', 'face_landmark_68', 'face_recognition'] as const) {
    sessions[name] = await createSession(name, { manifest });
  }
  const stats = {
    ssdBoxes: 0,
    ssdScores: 0,
    tinyGrid: 0,
    landmarks: 0,
    embeddingDiff: 0,
    embeddingCosine: 1,
    images: 0,
    ssdImages: 0,
    faces: 0,
  };
  const tfInput = (data: Float32Array, size: number) => tf.tensor4d(data, [1, size, size, 3]);

  try {
    for (const { path: photo, ssdReference } of PHOTOS) {
      const img = await decode(dataPath(photo));
      stats.images++;

      // SSD at 512: compare decoded boxes and sigmoid scores for all 5118 anchors
      const ssdIn = await letterbox(img, 512);
      const out = await sessions.ssd_mobilenetv1!.run(ssdIn, 1, 512, 512);
      const c = decodeSsd(out.box_encodings!.data, out.class_logits!.data, anchors);
      assert.equal(c.count, 5118);
      if (ssdReference) {
        stats.ssdImages++;
        const ref = await faceapi.nets.ssdMobilenetv1.forward(tfInput(ssdIn, 512));
        const refBoxes = ref.boxes[0]!.dataSync(); // (ymin, xmin, ymax, xmax)
        const refScores = ref.scores[0]!.dataSync();
        const ours = new Float32Array(c.boxes.length);
        for (let i = 0; i < c.count; i++) ours.set([c.boxes[i * 4 + 1]!, c.boxes[i * 4]!, c.boxes[i * 4 + 3]!, c.boxes[i * 4 + 2]!], i * 4);
        stats.ssdBoxes = Math.max(stats.ssdBoxes, maxAbsDiff(ours, refBoxes));
        stats.ssdScores = Math.max(stats.ssdScores, maxAbsDiff(c.scores, refScores));
      }

      // tiny face detector at 416: raw grid
      const tinyIn = await letterbox(img, 416);
      const refGrid = (await faceapi.nets.tinyFaceDetector.forward(tfInput(tinyIn, 416), 416)).dataSync();
      const grid = await sessions.tiny_face_detector!.run(tinyIn, 1, 416, 416);
      assert.deepEqual(grid.grid!.dims, [1, 13, 13, 25]);
      stats.tinyGrid = Math.max(stats.tinyGrid, maxAbsDiff(grid.grid!.data, refGrid));

      // landmarks and embeddings on face crops found by the ONNX SSD
      const boxes = topFaces(c.boxes, c.scores, img);
      assert.ok(boxes.length > 0, `no face found in ${photo}`);
      for (const box of boxes) {
        stats.faces++;
        const lmIn = await faceCrop(img, box, 112);
        // a square input: face-api's postProcess is the identity up to float rounding
        const refLm = (await faceapi.nets.faceLandmark68Net.forward(tfInput(lmIn, 112))).dataSync();
        const lm = await sessions.face_landmark_68!.run(lmIn, 1, 112, 112);
        stats.landmarks = Math.max(stats.landmarks, maxAbsDiff(lm.landmarks!.data, refLm));

        const recIn = await faceCrop(img, box, 150);
        const refEmb = (await faceapi.nets.faceRecognitionNet.forward(tfInput(recIn, 150))).dataSync();
        const emb = await sessions.face_recognition!.run(recIn, 1, 150, 150);
        stats.embeddingDiff = Math.max(stats.embeddingDiff, maxAbsDiff(emb.embedding!.data, refEmb));
        stats.embeddingCosine = Math.min(stats.embeddingCosine, cosine(emb.embedding!.data, refEmb));
      }
    }
  } finally {
    for (const s of Object.values(sessions)) await s.release();
  }

  const e = (v: number) => v.toExponential(2);
  console.log(`[parity] ${stats.images} photos, ${stats.faces} face crops; reference face-api ${faceapi.version} + tfjs ${tf.version.tfjs} (cpu)`);
  console.log(`[parity] ssd_mobilenetv1    decoded boxes max|Δ| ${e(stats.ssdBoxes)}, scores max|Δ| ${e(stats.ssdScores)} (${stats.ssdImages} photos × 5118 anchors)`);
  console.log(`[parity] tiny_face_detector raw grid max|Δ| ${e(stats.tinyGrid)} (${stats.images} photos, 416×416)`);
  console.log(`[parity] face_landmark_68   raw landmarks max|Δ| ${e(stats.landmarks)} (×112 px: ${e(stats.landmarks * 112)})`);
  console.log(`[parity] face_recognition   embedding max|Δ| ${e(stats.embeddingDiff)}, min cosine ${stats.embeddingCosine.toFixed(9)} (1 − cos ${e(1 - stats.embeddingCosine)})`);

  assert.ok(stats.ssdBoxes <= 1e-3, `ssd boxes differ by ${stats.ssdBoxes}`);
  assert.ok(stats.ssdScores <= 1e-3, `ssd scores differ by ${stats.ssdScores}`);
  assert.ok(stats.tinyGrid <= 1e-3, `tiny grid differs by ${stats.tinyGrid}`);
  assert.ok(stats.landmarks <= 1e-3, `landmarks differ by ${stats.landmarks}`);
  assert.ok(stats.embeddingDiff <= 1e-3, `embeddings differ by ${stats.embeddingDiff}`);
  assert.ok(stats.embeddingCosine >= 0.9999, `embedding cosine ${stats.embeddingCosine}`);
});
