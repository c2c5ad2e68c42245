import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countCrowd, crowdShift, decideName, defaultNamingRule, evidenceFor, personThreshold, sampleEvenly, type ExampleHit, type PersonCrowd } from '@facepipe/face-index';
import { embeddingSpace } from '../helpers/random.js';

// The naming rule's crowd calibration (naming/crowd-calibration.ts) on synthetic 128-d vectors.

const { unit, around } = embeddingSpace(23);
const rule = defaultNamingRule;

test('the shift: none for a typical crowd or nothing known; lower for a crowded person, higher for a lonely one; a small library says little', () => {
  assert.equal(crowdShift(undefined, rule), 0);
  assert.equal(crowdShift({ sampled: 4000, inBand: 40 }, rule), 0, 'the reference share (1 %) moves nothing');
  // Four times the reference share, counted on a full sample: two doublings tighter, less what the prior holds back.
  const crowded = crowdShift({ sampled: 4000, inBand: 160 }, rule);
  const expected = -rule.crowdWeight * Math.log2((160 + rule.crowdPrior * rule.crowdReference) / (4000 + rule.crowdPrior) / rule.crowdReference);
  assert.ok(Math.abs(crowded - expected) < 1e-12 && crowded < -0.05, `crowded: ${crowded}`);
  // Nobody in the band: looser, but never by more than maxCrowdShift.
  assert.equal(crowdShift({ sampled: 4000, inBand: 0 }, rule), rule.maxCrowdShift);
  assert.equal(crowdShift({ sampled: 1_000_000, inBand: 900_000 }, rule), -rule.maxCrowdShift);
  // 5 % of a full sample moves it by more than 0.06; 5 % of a library of 40 faces, by little.
  assert.ok(crowdShift({ sampled: 4000, inBand: 200 }, rule) < -0.06);
  assert.ok(Math.abs(crowdShift({ sampled: 40, inBand: 2 }, rule)) < 0.015);
  assert.equal(crowdShift({ sampled: 4000, inBand: 400 }, { ...rule, crowdWeight: 0 }), 0, 'weight 0 turns it off');
});

test('the count: library faces whose evidence for the person (mean of the 3 nearest examples) lies just beyond the threshold', () => {
  const centre = unit();
  const examples = Array.from({ length: 5 }, () => around(centre, 0.1));
  const at = (d: number) => around(centre, d);
  // Evidence grows with the distance from the centre; pick faces by their evidence.
  const inBand = Array.from({ length: 30 }, () => at(0.55)).filter((f) => {
    const e = evidenceFor(f, examples, 3);
    return e > 0.5 && e <= 0.6;
  });
  const near = Array.from({ length: 10 }, () => at(0.1));
  const far = Array.from({ length: 10 }, () => at(1.2));
  assert.ok(inBand.length >= 10);
  assert.deepEqual(countCrowd([...inBand, ...near, ...far], examples, rule), { sampled: inBand.length + 20, inBand: inBand.length });
  // One example only: its distance is the evidence.
  assert.equal(evidenceFor(examples[0]!, [examples[0]!], 3), 0);
  assert.equal(evidenceFor(examples[0]!, [], 3), Infinity);
});

test('a crowded person needs closer evidence, a lonely one less: the same face is named for one and only suggested for the other', () => {
  const hits = (d: number): ExampleHit[] => [d, d + 0.01, d + 0.02, 0.9].map((distance, i) => ({ personId: i < 3 ? 'p' : 'q', distance }));
  const gallery = (crowd: PersonCrowd | undefined) => ({ people: 20, examplesOf: () => 5, crowdOf: () => crowd });
  const typical = { sampled: 4000, inBand: 40 };
  const crowded = { sampled: 4000, inBand: 400 };
  const lonely = { sampled: 4000, inBand: 2 };
  assert.equal(personThreshold(gallery(typical), 'p', 3), rule.nameDistance);
  assert.ok(personThreshold(gallery(crowded), 'p', 3) < rule.nameDistance - 0.06);
  assert.ok(personThreshold(gallery(lonely), 'p', 3) > rule.nameDistance + 0.05);
  // Evidence 0.43: a name for a typical person, only a suggestion for a crowded one.
  assert.equal(decideName(hits(0.42), gallery(typical), true).kind, 'name');
  assert.equal(decideName(hits(0.42), gallery(crowded), true).kind, 'suggestion');
  // Evidence 0.48: a suggestion for a typical person (and with nothing known), a name for a lonely one.
  assert.equal(decideName(hits(0.47), gallery(typical), true).kind, 'suggestion');
  assert.equal(decideName(hits(0.47), gallery(undefined), true).kind, 'suggestion');
  assert.equal(decideName(hits(0.47), gallery(lonely), true).kind, 'name');
  // Never beyond the rule's bounds.
  assert.ok(personThreshold(gallery(lonely), 'p', 3) <= rule.maxNameDistance);
});

test('the sample: the same faces on every run, spread over the whole library', () => {
  const items = Array.from({ length: 1000 }, (_, i) => `face-${i}`);
  const a = sampleEvenly(items, (x) => x, 100);
  assert.deepEqual(new Set(sampleEvenly([...items].reverse(), (x) => x, 100)), new Set(a), 'the order the library is listed in does not matter');
  assert.equal(new Set(a).size, 100);
  // Both halves of the library are in it.
  const firstHalf = a.filter((x) => items.indexOf(x) < 500).length;
  assert.ok(firstHalf > 30 && firstHalf < 70, `first half: ${firstHalf}`);
  assert.deepEqual(sampleEvenly(items.slice(0, 10), (x) => x, 100), items.slice(0, 10));
});
