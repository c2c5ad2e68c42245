import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as facepipeCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';

const lfw = 'recognition/lfw_dev/lfw-deepfunneled';
const runCli = (args: string[], cwd: string) => facepipeCli(args, { cwd });

const jsonLines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

interface OutFace {
  match: { name: string | null };
  cluster: string | null;
  suggestion?: { name: string; distance: number };
}
interface OutLine {
  file: string;
  faces?: OutFace[];
}

/**
 * The library end to end, as a user drives it: `facepipe run` (workers as processes, a private
 * redis-server, the embedded S3-protocol server, PGlite over its socket) enrolls one person and
 * ingests a folder; unnamed faces are clustered; `facepipe clusters` lists them; `facepipe people
 * name` names one; that person's faces across the library are named, and so is a new photo of
 * them ingested afterwards; `facepipe search` finds them by face.
 */
describe('face index: enroll → ingest → cluster → name a cluster → named across the library', { skip: missingData(lfw) }, () => {
  let cwd: string;
  const person = (file: string) => file.split('/')[0]!;
  let clooneyCluster: string;
  let clusterFiles: string[];

  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'facepipe-library-'));
    // The library: one folder per LFW person (the folder name is our ground truth only).
    const pick: Record<string, number> = { George_Clooney: 8, Maria_Soledad_Alvear_Valenzuela: 5, Paul_Tagliabue: 3, Mary_Carey: 4, Martha_Burk: 4 };
    for (const [name, n] of Object.entries(pick)) {
      const files = readdirSync(dataPath(lfw, name)).sort();
      mkdirSync(join(cwd, 'library', name), { recursive: true });
      // Paul_Tagliabue's first photo is for enrollment, the rest are in the library.
      const offset = name === 'Paul_Tagliabue' ? 1 : 0;
      for (const f of files.slice(offset, offset + n)) copyFileSync(dataPath(lfw, name, f), join(cwd, 'library', name, f));
      if (name === 'Paul_Tagliabue') {
        mkdirSync(join(cwd, 'enroll', name), { recursive: true });
        copyFileSync(dataPath(lfw, name, files[0]!), join(cwd, 'enroll', name, files[0]!));
      }
    }
    // Clooney's ninth photo arrives later.
    mkdirSync(join(cwd, 'later'), { recursive: true });
    const clooney = readdirSync(dataPath(lfw, 'George_Clooney')).sort();
    copyFileSync(dataPath(lfw, 'George_Clooney', clooney[8]!), join(cwd, 'later', clooney[8]!));
  });
  after(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  test('run --enroll --out: enrolled people are named, every face carries its cluster', async () => {
    const r = await runCli(['run', 'library', '--enroll', 'enroll', '--out', 'first.jsonl', '--quiet'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /embedded face index database/);
    const lines = jsonLines(readFileSync(join(cwd, 'first.jsonl'), 'utf8')) as OutLine[];
    assert.equal(lines.length, 24);
    const faces = lines.flatMap((l) => (l.faces ?? []).map((f) => ({ file: l.file, ...f })));
    for (const f of faces) assert.ok('cluster' in f && (f.cluster === null || typeof f.cluster === 'string'), JSON.stringify(f));
    const paul = faces.filter((f) => person(f.file) === 'Paul_Tagliabue');
    assert.ok(paul.some((f) => f.match.name === 'Paul_Tagliabue'), JSON.stringify(paul));
    for (const f of faces.filter((x) => x.match.name !== null)) assert.equal(f.cluster, null, 'a named face is in no cluster');
    // Clooney's photos form a cluster, and no cluster mixes two people.
    const byCluster = new Map<string, string[]>();
    for (const f of faces) if (f.cluster) byCluster.set(f.cluster, [...(byCluster.get(f.cluster) ?? []), f.file]);
    for (const [id, files] of byCluster) assert.equal(new Set(files.map(person)).size, 1, `cluster ${id} mixes people: ${files.join(', ')}`);
    const best = [...byCluster.entries()].filter(([, files]) => person(files[0]!) === 'George_Clooney').sort((a, b) => b[1].length - a[1].length)[0];
    assert.ok(best, `no cluster of Clooney's photos: ${JSON.stringify(faces.filter((f) => person(f.file) === 'George_Clooney'))}`);
    [clooneyCluster, clusterFiles] = best;
    assert.ok(clusterFiles.length >= 3);
  });

  test('facepipe clusters --json lists the cluster with its size and sample faces', async () => {
    const r = await runCli(['clusters', '--json'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const clusters = jsonLines(r.stdout) as { cluster: string; faces: number; samples: { imageId: string; face: number; source: string }[] }[];
    const c = clusters.find((x) => x.cluster === clooneyCluster);
    assert.ok(c, r.stdout);
    assert.equal(c.faces, clusterFiles.length);
    assert.ok(c.samples.length > 0 && c.samples.every((s) => person(s.source) === 'George_Clooney' && /^[0-9a-f]{64}$/.test(s.imageId)));
  });

  test('facepipe people name <cluster> --preview says what it would name, doing nothing; then it names its faces; facepipe people lists them', async () => {
    const preview = jsonLines((await runCli(['people', 'name', clooneyCluster, 'George Clooney', '--preview', '--json'], cwd)).stdout) as { source: string; before: { name: string | null }; after: { name: string | null; how: string | null } }[];
    const examples = preview.filter((f) => f.after.how === 'enrolled');
    assert.equal(examples.length, clusterFiles.length, JSON.stringify(preview));
    assert.ok(examples.every((f) => f.after.name === 'George Clooney' && person(f.source) === 'George_Clooney'));
    const text = await runCli(['people', 'name', clooneyCluster, 'George Clooney', '--preview'], cwd);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`naming cluster ${clooneyCluster} George Clooney would name \\d+ faces \\(${clusterFiles.length} of the cluster, \\d+ more across the library\\); .* Nothing was changed\\.\\n$`));
    assert.ok(!(jsonLines((await runCli(['people', '--json'], cwd)).stdout) as { name: string }[]).some((p) => p.name === 'George Clooney'), 'the preview named nobody');
    const r = await runCli(['people', 'name', clooneyCluster, 'George Clooney'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const people = jsonLines((await runCli(['people', '--json'], cwd)).stdout) as { name: string; faces: number; examples: number }[];
    const george = people.find((p) => p.name === 'George Clooney');
    assert.ok(george, JSON.stringify(people));
    assert.ok(george.faces >= clusterFiles.length);
    assert.equal(george.examples, clusterFiles.length);
    assert.ok(people.some((p) => p.name === 'Paul_Tagliabue'));
    const clusters = jsonLines((await runCli(['clusters', '--json'], cwd)).stdout) as { cluster: string }[];
    assert.ok(!clusters.some((c) => c.cluster === clooneyCluster), 'a named cluster is gone');
  });

  test('facepipe people history lists the naming; facepipe people undo takes it back (only the newest), and it can be named again', async () => {
    const history = jsonLines((await runCli(['people', 'history', '--json'], cwd)).stdout) as { id: string; action: string; actor: string; undoable: boolean }[];
    assert.deepEqual([history[0]?.action, history[0]?.actor, history[0]?.undoable], ['name-cluster', 'local', true], JSON.stringify(history));
    const stale = await runCli(['people', 'undo', String(Number(history[0]!.id) + 1000)], cwd);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /the newest operation is #\d+ .*nothing was changed/);
    const undone = await runCli(['people', 'undo', history[0]!.id], cwd);
    assert.equal(undone.code, 0, undone.stderr);
    assert.match(undone.stdout, new RegExp(`^undone #${history[0]!.id} \\(named cluster ${clooneyCluster} .*\\): \\d+ faces as before`));
    assert.ok(!(jsonLines((await runCli(['people', '--json'], cwd)).stdout) as { name: string }[]).some((p) => p.name === 'George Clooney'));
    assert.ok((jsonLines((await runCli(['clusters', '--json'], cwd)).stdout) as { cluster: string }[]).some((c) => c.cluster === clooneyCluster), 'the cluster is back');
    const after = jsonLines((await runCli(['people', 'history', '--json'], cwd)).stdout) as { id: string; undoneBy: string | null }[];
    assert.equal(after.find((e) => e.id === history[0]!.id)?.undoneBy, 'local');
    assert.equal((await runCli(['people', 'name', clooneyCluster, 'George Clooney'], cwd)).code, 0);
  });

  test('the next run names his faces across the library and a new photo of him', async () => {
    const r = await runCli(['run', 'library', '--out', 'second.jsonl', '--quiet'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const faces = (jsonLines(readFileSync(join(cwd, 'second.jsonl'), 'utf8')) as OutLine[]).flatMap((l) => (l.faces ?? []).map((f) => ({ file: l.file, ...f })));
    const named = faces.filter((f) => f.match.name === 'George Clooney');
    for (const file of clusterFiles) assert.ok(named.some((f) => f.file === file), `${file} is not named`);
    for (const f of named) {
      assert.equal(person(f.file), 'George_Clooney', `${f.file} named George Clooney`);
      assert.equal(f.cluster, null);
    }
    const later = await runCli(['run', 'later', '--out', 'later.jsonl', '--quiet'], cwd);
    assert.equal(later.code, 0, later.stderr);
    const [line] = jsonLines(readFileSync(join(cwd, 'later.jsonl'), 'utf8')) as OutLine[];
    // Named, or — evidence short of a name (docs/recognition.md) — suggested, never someone else.
    const face = line!.faces?.[0];
    assert.ok(face?.match.name === 'George Clooney' || (face?.match.name === null && face.suggestion?.name === 'George Clooney'), JSON.stringify(line));
  });

  test('facepipe search <photo> --json: his faces, nearest first, with source, name and cluster', async () => {
    const probe = join(cwd, 'later', readdirSync(join(cwd, 'later'))[0]!);
    const r = await runCli(['search', probe, '--json', '--limit', '5'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const hits = jsonLines(r.stdout) as { imageId: string; source: string; face: number; distance: number; name: string | null; cluster: string | null }[];
    assert.equal(hits.length, 5);
    assert.deepEqual(Object.keys(hits[0]!), ['imageId', 'source', 'face', 'distance', 'name', 'cluster']);
    assert.equal(hits[0]!.distance, 0, 'the photo itself is in the library now');
    for (let i = 1; i < hits.length; i += 1) assert.ok(hits[i]!.distance >= hits[i - 1]!.distance);
    assert.ok(hits.slice(1, 4).every((h) => h.name === 'George Clooney'), JSON.stringify(hits));
    assert.ok(hits[0]!.name === 'George Clooney' || hits[0]!.name === null, 'the probe itself: named, or only suggested');
    assert.ok(hits.some((h) => h.source.startsWith('George_Clooney/')), 'sources are relative to the folder given to run');
  });
});

