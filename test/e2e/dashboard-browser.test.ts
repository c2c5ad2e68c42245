import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startService, type RunningService } from '@facepipe/producer';
import { dataPath, missingData } from '../helpers/data.js';
import { startLivePipeline, type LivePipeline } from '../helpers/live-pipeline.js';

/** Debian's chromium (apt-get install chromium); the test is skipped without it. */
export const chromiumPath = process.env.FACEPIPE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const photos = [
  'recognition/face_recognition_examples/knn_test/obama1.jpg',
  'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg',
  'recognition/face_recognition_examples/knn_test/johnsnow_test1.jpg',
  'negatives/scikit-image/coins.png',
  'hard_cases/compreface_formats/truncated.jpg',
];
const enroll = ['recognition/face_recognition_examples/knn_train/obama/obama.jpg', 'recognition/face_recognition_examples/knn_train/kit_harington/john1.jpeg'];
const skip = !existsSync(chromiumPath)
  ? `${chromiumPath} not found: install Debian's chromium (apt-get install chromium) or set FACEPIPE_CHROMIUM`
  : missingData(...photos, ...enroll);
const token = 'browser-test-token-0123456789';
/** Where the screenshot goes: FACEPIPE_TEST_OUTPUT, or the system temp folder. */
const outDir = resolve(process.env.FACEPIPE_TEST_OUTPUT ?? join(tmpdir(), 'facepipe-test-output'));

let pipeline: LivePipeline;
let service: RunningService;
let browser: Browser;

async function upload(path: string, files: string[]): Promise<{ imageId: string }[]> {
  const form = new FormData();
  for (const rel of files) form.append('file', new Blob([readFileSync(dataPath(rel))]), basename(rel));
  const res = await fetch(`${service.url}${path}`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  assert.ok(res.status < 300, `${path}: ${res.status}`);
  return ((await res.json()) as { files: { imageId: string }[] }).files;
}

describe('the dashboard in a headless browser, on a pipeline that processed real photos', { skip }, () => {
  before(async () => {
    pipeline = await startLivePipeline({ FACEPIPE_API_TOKEN: token, FACEPIPE_JOB_ATTEMPTS: '1' });
    service = await startService({ config: pipeline.config, host: '127.0.0.1', port: 0 });
    await upload(`/v1/people/${encodeURIComponent('Barack Obama')}/images`, [enroll[0]!]);
    await upload(`/v1/people/${encodeURIComponent('Kit Harington')}/images`, [enroll[1]!]);
    await new Promise((r) => setTimeout(r, 300)); // classify workers pick the new gallery up
    await upload('/v1/images', photos);
    const detect = pipeline.ctx.queues.detect;
    const classify = pipeline.ctx.queues.classify;
    for (let i = 0; i < 600; i += 1) {
      const [d, c] = await Promise.all([detect.getJobCounts('failed'), classify.getJobCounts('completed')]);
      if (d.failed === 1 && c.completed >= photos.length - 1 + enroll.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await pipeline?.stop();
  });

  test('sign in, see the counts BullMQ has, the failures, pictures with boxes and names, the gallery; take a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const started = performance.now();
    await page.goto(`${service.url}/dashboard`);
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-loaded=true]', { timeout: 10_000 });
    const loadMs = performance.now() - started;
    await page.waitForSelector('body[data-pictures=true]', { timeout: 20_000 });
    await page.waitForSelector('#failures [data-code=TRUNCATED_IMAGE]', { timeout: 20_000 });

    // The counts shown are BullMQ's counts.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 2500))); // one more poll after the last job
    for (const name of ['detect', 'embed', 'classify', 'gallery'] as const) {
      const counts = await pipeline.ctx.queues.byName(name).getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      const shown = async (state: string) => Number((await page.textContent(`td[data-queue=${name}][data-count=${state}]`))?.replace(/,/g, ''));
      assert.equal(await shown('completed'), counts.completed, `${name} completed`);
      assert.equal(await shown('failed'), counts.failed, `${name} failed`);
      assert.equal(await shown('active'), counts.active, `${name} active`);
      assert.equal(await shown('waiting'), (counts.waiting ?? 0) + (counts.prioritized ?? 0), `${name} waiting`);
      assert.ok((await shown('workers')) >= 1, `${name} workers`);
    }
    assert.equal(await page.textContent('#failures [data-code=TRUNCATED_IMAGE] [data-count=failures]'), '1');

    // Pictures: photos loaded, with a box per face and names from the gallery.
    const cards = await page.$$eval('#recent .card', (els) =>
      els.map((el) => ({
        loaded: (el.querySelector('img') as HTMLImageElement).naturalWidth > 0,
        boxes: el.querySelectorAll('svg rect').length,
        names: [...el.querySelectorAll('svg text')].map((t) => t.textContent),
      })),
    );
    assert.ok(cards.length >= 3, `${cards.length} result cards`);
    assert.ok(cards.every((c) => c.loaded), 'every photo loads through the service');
    assert.ok(cards.some((c) => c.boxes === 2), 'the two-face photo shows two boxes');
    assert.ok(cards.flatMap((c) => c.names).includes('Barack Obama'));
    assert.ok(cards.flatMap((c) => c.names).includes('Kit Harington'));
    const people = await page.$$eval('#people .card', (els) => els.map((el) => (el as HTMLElement).dataset.person));
    assert.deepEqual(people.sort(), ['Barack Obama', 'Kit Harington']);
    const batches = await page.$$eval('#batches tbody tr[data-batch] progress', (els) => els.map((el) => (el as HTMLProgressElement).value));
    assert.ok(batches.length >= 3 && batches.every((v) => v === 1), `every batch finished: ${batches}`);

    mkdirSync(outDir, { recursive: true });
    const shot = join(outDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(readFileSync(shot).length > 10_000);
    process.stderr.write(`dashboard loaded in ${Math.round(loadMs)} ms (sign-in included); screenshot: ${shot}\n`);
    assert.deepEqual(errors, []);

    // Job-level inspection is bull-board, behind the same sign-in.
    const board = await browser.newPage();
    await board.context().addCookies(await page.context().cookies());
    const res = await page.goto(`${service.url}/dashboard/jobs/`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.title(), 'facepipe jobs');
    await board.close();
    await page.close();
  });

  test('without signing in the page asks for the token and the data stays closed', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${service.url}/dashboard`);
    assert.equal(res?.status(), 401);
    assert.ok(await page.isVisible('input[name=token]'));
    const api = await page.goto(`${service.url}/dashboard/api/overview`);
    assert.equal(api?.status(), 401);
    await page.close();
  });
});
