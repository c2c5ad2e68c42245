import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateLibrary, formatLibraryReport, type EvalPhoto } from '@facepipe/face-index';
import { embeddingSpace } from '../helpers/random.js';

// `facepipe eval-library`'s scoring (evaluateLibrary) on a synthetic labelled library: people far
// apart, their photos close together, one face a photo.

const { unit, around } = embeddingSpace(31);

function library(): EvalPhoto[] {
  const photos: EvalPhoto[] = [];
  const face = (embedding: number[]) => ({ box: [80, 80, 90, 90], score: 0.95, quality: { shapeResidual: 0.05, yaw: 0, pitch: 0, sharpness: 40 }, embedding });
  for (let p = 0; p < 12; p += 1) {
    const centre = unit().map((x) => x * 1.2);
    for (let k = 0; k < 6; k += 1) photos.push({ file: `Person_${p}_${String(k + 1).padStart(4, '0')}.jpg`, person: `Person_${p}`, width: 250, height: 250, faces: [face(around(centre, 0.2))] });
  }
  for (let s = 0; s < 40; s += 1) photos.push({ file: `Single_${s}_0001.jpg`, person: `Single_${s}`, width: 250, height: 250, faces: [face(unit().map((x) => x * 1.2))] });
  return photos;
}

test('eval-library: names enrolled people and no stranger, pools several sets of enrolled people, clusters each person, and names through the clusters', async () => {
  const photos = library();
  const r = await evaluateLibrary(photos, { enrollPeople: 4, enrollPhotos: 2, draws: 3 });
  // The contract: strangersNamed, enrolledRight, clusters.bcubed.{precision,recall}, clusters.worstPeople.
  assert.equal(r.strangersNamed, 0);
  assert.equal(r.naming.counts.strangers, 12 * 6 + 40 - 4 * 6);
  assert.equal(r.naming.counts.enrolled, 4 * (6 - 2));
  assert.ok(r.enrolledRight >= 0.9, `enrolled named right ${r.enrolledRight}`);
  assert.equal(r.naming.counts.enrolledWrong, 0);
  assert.equal(r.clusters.bcubed.precision, 1);
  assert.ok(r.clusters.bcubed.recall > 0.5);
  assert.equal(r.clusters.worstPeople, 1);
  assert.equal(Object.keys(r.personThresholds).length, 4);
  // Pooled over 3 sets: the first set's counts and two more of the same size.
  assert.equal(r.namingDraws?.draws, 3);
  assert.equal(r.namingDraws?.counts.enrolled, 3 * 4 * (6 - 2));
  assert.equal(r.namingDraws?.counts.strangersNamed, 0);
  // Naming each cluster as its main person: every face it reaches is that person.
  assert.ok(r.clusterNaming.clusters >= 12 && r.clusterNaming.examples >= 24);
  assert.equal(r.clusterNaming.examplesOfOthers + r.clusterNaming.namedOthers, 0);
  assert.equal(r.clusterNaming.othersShare, 0);
  assert.match(formatLibraryReport(r), /pooled over 3 sets of enrolled people/);
  // Without draws, no pooled figures.
  assert.equal((await evaluateLibrary(photos, { enrollPeople: 4, enrollPhotos: 2, skipClassic: true })).namingDraws, undefined);
});

test('eval-library: a stranger who is one enrolled person\'s look-alike is counted as a stranger named by the classic rule, not by facepipe\'s', async () => {
  const photos = library();
  // Person_0's look-alike: 0.45 from one of Person_0's photos, another person.
  const target = photos.find((p) => p.person === 'Person_0')!;
  photos.push({ ...target, file: 'Lookalike_0001.jpg', person: 'Lookalike', faces: [{ ...target.faces[0]!, embedding: around(target.faces[0]!.embedding, 0.45) }] });
  const r = await evaluateLibrary(photos, { enrollPeople: 12, enrollPhotos: 3 });
  assert.ok(r.enrolled.people.includes('Person_0'));
  assert.ok(r.classic.nearest06.counts.strangersNamed >= 1, 'the classic rule names the look-alike');
  assert.equal(r.naming.counts.strangersNamed, 0);
});
