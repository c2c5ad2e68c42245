import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { humanLine, plural, ProgressBar, queueTable } from '@facepipe/cli';
import { faviconPng, withoutRemoteFonts } from '@facepipe/service';

/** A terminal of `columns` characters that keeps what is written to it. */
function terminal(columns: number): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY: true, columns, text: '', write(chunk: string) { this.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

test('plural: one face, three faces, no faces', () => {
  assert.equal(plural(1, 'face'), '1 face');
  assert.equal(plural(3, 'face'), '3 faces');
  assert.equal(plural(0, 'example'), '0 examples');
  assert.equal(plural(2, 'person', 'people'), '2 people');
});

test('a progress line says what it counts, and a narrow terminal loses whole parts, never half a word', () => {
  const wide = new ProgressBar('processing', { stream: terminal(120) });
  assert.match(wide.line(2, 5, '3 faces', performance.now() + 1000), /^processing \[#{12}\.{18}\] 2\/5 files \d+\.\d\/s ETA \d+s 3 faces$/);
  const queueing = new ProgressBar('queueing', { stream: terminal(120) });
  assert.match(queueing.line(1, undefined, '', performance.now() + 100), /^queueing 1 file \d+\.\d\/s$/);
  for (const columns of [20, 30, 40, 50, 60, 70]) {
    const line = new ProgressBar('processing', { stream: terminal(columns) }).line(2, 5, '3 faces', performance.now() + 1000);
    assert.ok(line.length <= columns - 1, `${columns}: ${line}`);
    assert.doesNotMatch(line, /\b(fac|face|file)$/, `${columns}: "${line}" ends in a cut word`);
    assert.match(line, /^processing .*2\/5\b/, `${columns}: the count stays`);
  }
});

test('a bar ends its line once, and ProgressBar.endAll ends every one still drawing', () => {
  const out = terminal(80);
  const bar = new ProgressBar('ingest', { stream: out });
  bar.update(1, 3);
  ProgressBar.endAll();
  assert.ok(out.text.endsWith('\n'));
  const before = out.text.length;
  bar.done();
  assert.equal(out.text.length, before, 'no second newline');
});

test("status's queue table: columns as wide as their longest cell (maintenance included)", () => {
  const row = (name: string, waiting = 0, paused = false) => ({ name, waiting, prioritized: 0, active: 0, delayed: 0, failed: 0, workers: 1, paused });
  const lines = queueTable([row('detect', 12345), row('maintenance'), row('embed', 0, true)]).trimEnd().split('\n');
  assert.equal(lines[0], 'queue        waiting  active  delayed  failed  workers');
  assert.equal(lines[1], 'detect         12345       0        0       0        1');
  assert.equal(lines[2], 'maintenance        0       0        0       0        1');
  assert.equal(lines[3], 'embed              0       0        0       0        1  (paused)');
});

test('a log line shown to a person: warnings and errors in one line, the rest not at all', () => {
  assert.equal(humanLine('{"time":"t","level":"info","msg":"batch ingested","batchId":"b1"}'), undefined);
  assert.equal(humanLine('{"time":"t","level":"warn","msg":"redis connection error","err":"ECONNREFUSED"}', '/d/logs/cli.log'), 'facepipe: warning: redis connection error: ECONNREFUSED (details in /d/logs/cli.log)');
  assert.equal(humanLine('{"level":"error","msg":"upload failed","err":{"name":"Error","message":"disk full"}}'), 'facepipe: error: upload failed: disk full');
});

test("bull-board's page loses its Google Fonts link and nothing else", () => {
  const require = createRequire(import.meta.url);
  const page = readFileSync(join(dirname(require.resolve('@bull-board/ui/package.json')), 'dist/index.ejs'), 'utf8');
  assert.match(page, /fonts\.googleapis\.com/, 'the control: bull-board links Google Fonts');
  const served = withoutRemoteFonts(page);
  assert.doesNotMatch(served, /https?:\/\//, 'no address off the service');
  assert.equal(page.length - served.length, /<link[^>]*fonts\.googleapis[^>]*>\s*/.exec(page)![0].length);
  assert.match(served, /<link rel="icon"/, 'its own icon stays');
});

test('the favicon renders as a 32 px PNG', async () => {
  const meta = await sharp(await faviconPng()).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 32, 32]);
});
