import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import { dataPath, missingData } from '../helpers/data.js';
import { buildInputFolder, INPUT_FOLDER_ENTRIES_AS_ROOT, INPUT_FOLDER_ENTRIES_AS_USER, type InputFolder } from '../helpers/input-folder.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
const PHOTO = 'hard_cases/compreface_formats/einstein.jpeg';
const skip = missingData(PHOTO);
let folder: InputFolder;

before(async () => {
  if (!skip) folder = await buildInputFolder(dataPath(PHOTO));
});
after(async () => {
  await folder?.close();
});

function facepipe(args: string[], timeoutMs: number): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^FACEPIPE_(DETECT|MIN_FACE|MAX_|DETECTOR)/.test(k)));
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('facepipe detect on a FIFO, a socket, a link loop and a dangling link: typed errors at once, exit 0', { skip, timeout: 120_000 }, () => {
  const names = ['e-fifo.jpg', 'f-socket.jpg', 'd-loop.jpg', 'c-dangling.jpg', 'b-link.jpg'];
  const r = facepipe(['detect', '--json', ...names.map((n) => join(folder.root, n))], 100_000);
  assert.equal(r.signal, null, 'did not block on the FIFO');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; error?: { code: string }; faces?: unknown[] });
  assert.deepEqual(lines.map((l) => l.error?.code), ['NOT_A_FILE', 'NOT_A_FILE', 'NOT_READABLE', 'OBJECT_NOT_FOUND', undefined]);
  assert.equal(lines[4]!.faces!.length, 1, 'the link is followed to the photo');
});

test('facepipe detect as a user without permission (setpriv to nobody): a chmod 000 file is NOT_READABLE, exit 0', {
  skip: skip || (process.getuid?.() !== 0 ? 'needs root to switch to nobody' : spawnSync('setpriv', ['--help']).error ? 'setpriv (util-linux) is missing' : false),
  timeout: 120_000,
}, () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^FACEPIPE_(DETECT|MIN_FACE|MAX_|DETECTOR)/.test(k)));
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, 'detect', '--json', join(folder.root, 'g-locked.jpg'), join(folder.root, 'a-good.jpg')], {
    cwd: repoRoot, env: { ...env, HOME: '/tmp' }, encoding: 'utf8', timeout: 100_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { error?: { code: string; message: string }; faces?: unknown[] });
  assert.equal(lines[0]!.error?.code, 'NOT_READABLE');
  assert.match(lines[0]!.error!.message, /permission denied/);
  assert.equal(lines[1]!.faces?.length, 1);
  const whole = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, 'detect', '--json', folder.root], {
    cwd: repoRoot, env: { ...env, HOME: '/tmp' }, encoding: 'utf8', timeout: 100_000,
  });
  assert.equal(whole.status, 0, whole.stderr);
  const entries = whole.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; error?: { code: string } });
  assert.deepEqual(entries.map((l): [string, string | undefined] => [l.file.slice(folder.root.length + 1), l.error?.code]), INPUT_FOLDER_ENTRIES_AS_USER, 'the unlistable subfolder is one NOT_READABLE line');
});

test('facepipe detect on a folder: one line per input, skips counted on stderr', { skip, timeout: 120_000 }, () => {
  const r = facepipe(['detect', '--json', folder.root], 100_000);
  assert.equal(r.status, 0, r.stderr);
  const expected = process.getuid?.() === 0 ? INPUT_FOLDER_ENTRIES_AS_ROOT : INPUT_FOLDER_ENTRIES_AS_USER;
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; error?: { code: string } });
  assert.deepEqual(lines.map((l): [string, string | undefined] => [l.file.slice(folder.root.length + 1), l.error?.code]), expected);
  assert.match(r.stderr, /4 entries skipped \(hidden: 1, OS clutter: 1, not named like an image: 1, link to a folder \(not followed\): 1\)/);
});

test('facepipe detect: truncated AVIFs get TRUNCATED_IMAGE at --concurrency 1 and 8 alike', { skip, timeout: 240_000 }, async () => {
  const avif = await sharp(await readFile(dataPath(PHOTO))).resize(512, 512).avif({ quality: 50 }).toBuffer();
  const avifDir = join(folder.root, 'avif');
  await mkdir(avifDir);
  const fractions = [0.3, 0.5, 0.7, 0.9, 0.95, 0.99];
  for (const [i, f] of fractions.entries()) await writeFile(join(avifDir, `cut-${i}.avif`), avif.subarray(0, Math.floor(avif.length * f)));
  await writeFile(join(avifDir, 'whole.avif'), avif);
  for (const concurrency of ['1', '8']) {
    const r = facepipe(['detect', '--json', '--concurrency', concurrency, avifDir], 200_000);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { error?: { code: string } });
    assert.deepEqual(lines.map((l) => l.error?.code ?? 'ok'), [...fractions.map(() => 'TRUNCATED_IMAGE'), 'ok'], `--concurrency ${concurrency}`);
  }
});
