import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { loadConfig } from '@facepipe/core';
import { labelFace, Producer } from '@facepipe/producer';
import { startService, type RunningService } from '@facepipe/service';
import { dataPath, missingData } from '../helpers/data.js';
import { startLivePipeline, type LivePipeline } from '../helpers/live-pipeline.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

/** Debian's chromium (apt-get install chromium); the test is skipped without it. */
export const chromiumPath = process.env.FACEPIPE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const knn = 'recognition/face_recognition_examples/knn_test';
const photos = [`${knn}/obama1.jpg`, `${knn}/kit_with_rose.jpg`, `${knn}/johnsnow_test1.jpg`, 'negatives/scikit-image/coins.png', 'hard_cases/compreface_formats/truncated.jpg'];
/** Uploaded while detect is paused (bytes not seen before, so they must go through the queue). */
const whilePaused = `${knn}/obama_and_biden.jpg`;
/** Uploaded to a deployment with no workers. */
const withoutWorkers = `${knn}/alex_lacamoire1.jpg`;
const enroll = ['recognition/face_recognition_examples/knn_train/obama/obama.jpg', 'recognition/face_recognition_examples/knn_train/kit_harington/john1.jpeg'];
/** Photos of one person nobody enrolls (the People page names their cluster). */
const clooneyDir = 'recognition/lfw_dev/lfw-deepfunneled/George_Clooney';
/**
 * kit_with_rose.jpg shrunk to 96 px wide: the detector still finds the faces, but every box is
 * under the 20 px minimum face size, so the result has 0 faces and detections set aside
 * (SMALL_BOUNDING_BOX) — which the page must tell apart from coins.png's "nothing there".
 */
const tinyFaces = { rel: `${knn}/kit_with_rose.jpg`, width: 96, name: 'kit_with_rose-96px.png' };
/** A file name long enough to overflow a card unless it wraps. */
const longName = `${'a-very-long-file-name-from-a-camera-export-without-any-spaces-'.repeat(3)}kit_with_rose.jpg`;
const skip = !existsSync(chromiumPath)
  ? `${chromiumPath} not found: install Debian's chromium (apt-get install chromium) or set FACEPIPE_CHROMIUM`
  : missingData(...photos, ...enroll, whilePaused, withoutWorkers, clooneyDir);
const token = 'browser-test-token-0123456789';
/** Where the screenshots go: FACEPIPE_TEST_OUTPUT, or the system temp folder. */
const outDir = resolve(process.env.FACEPIPE_TEST_OUTPUT ?? join(tmpdir(), 'facepipe-test-output'));
const widths = { desktop: { width: 1440, height: 1000 }, phone: { width: 390, height: 844 } };

let pipeline: LivePipeline;
let service: RunningService;
let browser: Browser;
let signedIn: BrowserContext;

interface Uploaded {
  batchId: string;
  files: { imageId: string | null; filename: string | null; status: string }[];
}

async function upload(url: string, path: string, files: { rel?: string; name?: string; bytes?: Buffer }[]): Promise<Uploaded> {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes ?? readFileSync(dataPath(f.rel!)))]), f.name ?? basename(f.rel!));
  const res = await fetch(`${url}${path}`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  assert.ok(res.status < 300, `${path}: ${res.status}`);
  return (await res.json()) as Uploaded;
}

async function signIn(url: string, context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/dashboard`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('body[data-loaded=true]', { timeout: 10_000 });
  return page;
}

/** The page is no wider than the window (nothing overflows sideways). */
async function assertFits(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

/** A control is shown, enabled, inside the window's width and at least 24 px high (tappable). */
async function assertUsable(page: Page, selector: string, what: string): Promise<void> {
  const control = page.locator(selector).first();
  assert.ok(await control.isVisible(), `${what}: visible`);
  assert.ok(await control.isEnabled(), `${what}: enabled`);
  const box = await control.boundingBox();
  const innerWidth = await page.evaluate(() => window.innerWidth);
  assert.ok(box && box.x >= 0 && box.x + box.width <= innerWidth, `${what}: ${JSON.stringify(box)} in a ${innerWidth} px window`);
  assert.ok(box.height >= 24, `${what}: ${box.height} px high`);
}

async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, name);
  await page.screenshot({ path, fullPage: true });
  assert.ok(readFileSync(path).length > 5_000);
  process.stderr.write(`screenshot: ${path}\n`);
  return path;
}

let mainBatch: Uploaded;

describe('the dashboard in a headless browser, on a pipeline that processed real photos', { skip }, () => {
  before(async () => {
    pipeline = await startLivePipeline({ FACEPIPE_API_TOKEN: token, FACEPIPE_JOB_ATTEMPTS: '1', FACEPIPE_LOG_LEVEL: 'error' });
    service = await startService({ config: pipeline.config, host: '127.0.0.1', port: 0 });
    await upload(service.url, `/v1/people/${encodeURIComponent('Barack Obama')}/images`, [{ rel: enroll[0] }]);
    await upload(service.url, `/v1/people/${encodeURIComponent('Kit Harington')}/images`, [{ rel: enroll[1] }]);
    await new Promise((r) => setTimeout(r, 300)); // classify workers pick the new gallery up
    mainBatch = await upload(service.url, '/v1/images', [
      ...photos.map((rel) => ({ rel, name: rel.endsWith('kit_with_rose.jpg') ? longName : undefined })),
      { bytes: Buffer.from('these are meeting notes, not a photo\n'), name: 'notes.txt' },
      { bytes: await sharp(dataPath(tinyFaces.rel)).resize({ width: tinyFaces.width }).png().toBuffer(), name: tinyFaces.name },
    ]);
    const detect = pipeline.ctx.queues.detect;
    const classify = pipeline.ctx.queues.classify;
    for (let i = 0; i < 600; i += 1) {
      const [d, c] = await Promise.all([detect.getJobCounts('failed'), classify.getJobCounts('completed')]);
      if (d.failed === 1 && c.completed >= photos.length + enroll.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // A name given by hand to the face in johnsnow_test1.jpg.
    const snow = mainBatch.files.find((f) => f.filename === 'johnsnow_test1.jpg')!;
    await labelFace(pipeline.ctx.store, snow.imageId!, 0, 'Jon Snow', 'browser-test');
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    signedIn = await browser.newContext({ viewport: widths.desktop });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await pipeline?.stop();
  });

  test('sign in, see the counts BullMQ has, the failures, pictures with boxes and names, the gallery; no wider than 1440 px', async () => {
    const errors: string[] = [];
    const started = performance.now();
    const page = await signIn(service.url, signedIn);
    page.on('pageerror', (err) => errors.push(err.message));
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
    // An input error cannot succeed on retry: no "Retry all" for it.
    assert.equal(await page.getAttribute('#failures [data-code=TRUNCATED_IMAGE]', 'data-retryable'), 'false');
    assert.equal(await page.locator('#failures [data-code=TRUNCATED_IMAGE] button[data-action=retry]').count(), 0);
    // No banner for queues that have workers and run; none of the batches is stalled.
    assert.equal(await page.locator('#alerts [data-alert=no-workers], #alerts [data-alert=paused], #alerts [data-alert=stalled]').count(), 0);

    // Pictures: photos loaded, with a box per face and names from the gallery.
    const cards = await page.$$eval('#recent .card', (els) =>
      els.map((el) => ({
        loaded: (el.querySelector('img') as HTMLImageElement).naturalWidth > 0,
        boxes: el.querySelectorAll('svg rect').length,
        names: [...el.querySelectorAll('svg text')].map((t) => t.textContent),
        hand: [...el.querySelectorAll('[data-naming=hand]')].map((t) => t.textContent),
      })),
    );
    assert.ok(cards.length >= 3, `${cards.length} result cards`);
    assert.ok(cards.every((c) => c.loaded), 'every photo loads through the service');
    assert.ok(cards.some((c) => c.boxes === 2), 'the two-face photo shows two boxes');
    assert.ok(cards.flatMap((c) => c.names).includes('Barack Obama'));
    assert.ok(cards.flatMap((c) => c.names).includes('Kit Harington'));
    assert.deepEqual(cards.flatMap((c) => c.hand), ['Jon Snow'], 'the hand-given name is marked as such, and only it');
    const people = await page.$$eval('#people .card', (els) => els.map((el) => (el as HTMLElement).dataset.person));
    assert.deepEqual(people.sort(), ['Barack Obama', 'Kit Harington']);
    const batches = await page.$$eval('#batches tbody tr[data-batch] progress', (els) => els.map((el) => (el as HTMLProgressElement).value));
    assert.ok(batches.length >= 3 && batches.every((v) => v === 1), `every batch finished: ${batches}`);
    assert.equal(await page.getAttribute(`#batches tr[data-batch="${mainBatch.batchId}"]`, 'data-state'), 'finished');
    assert.match((await page.textContent(`[data-eta="${mainBatch.batchId}"]`)) ?? '', /^finished in /, 'a finished batch shows how long it took, not a rate');

    // Filter by kind: enrollments only.
    await page.selectOption('#batch-kind', 'enroll');
    await page.waitForFunction(() => [...document.querySelectorAll('#batches tr[data-batch]')].every((r) => (r as HTMLElement).dataset.kind === 'enroll'));
    assert.equal(await page.locator('#batches tr[data-batch]').count(), 2);
    await page.selectOption('#batch-kind', 'all');
    await page.waitForSelector(`#batches tr[data-batch="${mainBatch.batchId}"]`);

    await assertFits(page, 'overview at 1440 px');
    await shot(page, 'dashboard-1440.png');
    process.stderr.write(`dashboard loaded in ${Math.round(loadMs)} ms (sign-in included)\n`);
    assert.deepEqual(errors, []);

    // Job-level inspection is bull-board, behind the same sign-in, with a way back.
    const board = await signedIn.newPage();
    // Nothing is fetched from outside the service (bull-board's page links Google Fonts; the service drops the link).
    const offsite: string[] = [];
    board.on('request', (r) => {
      if (!r.url().startsWith(service.url) && !r.url().startsWith('data:')) offsite.push(r.url());
    });
    const res = await board.goto(`${service.url}/dashboard/jobs/`);
    assert.equal(res?.status(), 200);
    assert.equal(await board.title(), 'facepipe jobs');
    // bull-board lists its uiConfig.miscLinks in the header's last menu.
    await board.click('header ul[class^=actions] > li:last-child button', { timeout: 10_000 });
    await board.waitForSelector('a[href="/dashboard"]:has-text("facepipe dashboard")', { timeout: 10_000 });
    await shot(board, 'bull-board-menu.png');
    assert.deepEqual(offsite, [], 'bull-board loads nothing from outside the service');
    // Every page has an icon: the dashboard's and bull-board's link one that loads.
    for (const p of [page, board]) {
      const icon = await p.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.href);
      assert.ok(icon, `${p.url()}: an icon link`);
      assert.equal((await p.request.get(icon)).status(), 200, icon);
    }
    await board.close();
    await page.close();
  });

  test('a click on a batch opens its page: progress, failures per code with admission rejections, results with pictures', async () => {
    for (const [label, viewport] of Object.entries(widths)) {
      const context = await browser.newContext({ viewport });
      await context.addCookies(await signedIn.cookies());
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${service.url}/dashboard`);
      await page.waitForSelector('body[data-loaded=true]');
      await page.waitForSelector('body[data-pictures=true]', { timeout: 20_000 });
      await assertFits(page, `overview at ${viewport.width} px`);
      if (label === 'phone') await shot(page, 'dashboard-390.png');

      await page.click(`#batches tr[data-batch="${mainBatch.batchId}"] td[data-label=source]`);
      await page.waitForSelector(`body[data-batch-loaded="${mainBatch.batchId}"][data-batch-items=true]`, { timeout: 10_000 });
      assert.equal(await page.isVisible('#overview'), false);
      const codes = await page.$$eval('#batch-failures [data-code]', (els) => els.map((el) => `${(el as HTMLElement).dataset.code}:${el.querySelector('[data-count]')?.textContent}:${(el as HTMLElement).dataset.retryable}`));
      assert.deepEqual(codes.sort(), ['NOT_AN_IMAGE:1:false', 'TRUNCATED_IMAGE:1:false'], 'the admission rejection is listed with the pipeline failure');
      assert.equal(await page.locator('#batch-failures button[data-action=retry]').count(), 0, 'no retry for input errors');
      const refused = await page.evaluate(
        async (id) => (await fetch(`/dashboard/api/batches/${id}/failures/TRUNCATED_IMAGE/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
        mainBatch.batchId,
      );
      assert.equal(refused, 409, 'and the service refuses one');
      const items = await page.$$eval('#batch-items .card', (els) =>
        els.map((el) => ({
          status: (el as HTMLElement).dataset.status,
          code: (el as HTMLElement).dataset.code,
          loaded: (el.querySelector('img') as HTMLImageElement | null)?.complete ?? null,
          hand: [...el.querySelectorAll('[data-naming=hand]')].map((t) => t.textContent),
          file: el.querySelector('strong')?.textContent ?? '',
          faces: el.querySelector('[data-count=faces]')?.textContent ?? null,
          setAside: (el.querySelector('[data-rejected]') as HTMLElement | null)?.dataset.rejected ?? null,
          setAsideText: el.querySelector('[data-rejected]')?.textContent ?? null,
          outlined: [...el.querySelectorAll('svg rect.rejected')].map((r) => r.getAttribute('data-reason')),
          outlineLabels: [...el.querySelectorAll('svg text.rejected')].map((t) => t.textContent),
        })),
      );
      assert.equal(items.length, photos.length + 2);
      assert.deepEqual(items.filter((i) => i.status === 'failed').map((i) => i.code).sort(), ['NOT_AN_IMAGE', 'TRUNCATED_IMAGE']);
      assert.equal(items.filter((i) => i.status === 'done').length, photos.length);
      // Faces set aside: a count with the reasons, and an outlined, labelled box per detection on the picture.
      const tiny = items.find((i) => i.file === tinyFaces.name)!;
      const coins = items.find((i) => i.file === 'coins.png')!;
      assert.equal(tiny.faces, '0 faces');
      assert.equal(coins.faces, '0 faces');
      assert.equal(coins.setAside, null, 'nothing there: no "set aside" line');
      assert.deepEqual(coins.outlined, []);
      assert.ok(Number(tiny.setAside) >= 1, `the shrunk photo's detections are set aside: ${JSON.stringify(tiny)}`);
      assert.equal(tiny.outlined.length, Number(tiny.setAside));
      assert.ok(tiny.outlined.every((r) => r === 'SMALL_BOUNDING_BOX'), JSON.stringify(tiny.outlined));
      assert.deepEqual(tiny.outlineLabels, tiny.outlined);
      assert.match(tiny.setAsideText ?? '', new RegExp(`^${tiny.setAside} set aside: SMALL_BOUNDING_BOX( ×${tiny.setAside})?$`));
      // The result document behind the card says the same.
      const { result } = (await (await fetch(`${service.url}/v1/images/${mainBatch.files.find((f) => f.filename === tinyFaces.name)!.imageId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        result: { faceCount: number; rejected?: { reason: string }[] };
      };
      assert.equal(result.faceCount, 0);
      assert.equal(result.rejected?.length, Number(tiny.setAside));
      assert.ok(items.flatMap((i) => i.hand).includes('Jon Snow'));
      await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#batch-items img')].every((img) => img.complete && img.naturalWidth > 0), undefined, { timeout: 10_000 });
      assert.ok(((await page.textContent('#batch-items')) ?? '').includes(longName), 'the long file name is shown whole');
      await assertFits(page, `batch page at ${viewport.width} px`);
      await shot(page, `batch-${viewport.width}.png`);
      await page.click('#batch-page a[href="#"]');
      await page.waitForSelector('#overview', { state: 'visible' });
      assert.deepEqual(errors, []);
      await context.close();
    }
  });

  test('pausing a queue raises a banner; its batch says paused instead of an ETA; resuming says so and lets it finish', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${service.url}/dashboard`);
    await page.waitForSelector('body[data-loaded=true]');
    await page.click('#queues button[data-action=pause][data-queue=detect]');
    await page.waitForSelector('#notice[data-outcome=ok]:has-text("detect paused")');
    await page.waitForSelector('#alerts [data-alert=paused][data-queue=detect]');
    const paused = await upload(service.url, '/v1/images', [{ rel: whilePaused }]);
    await page.waitForSelector(`#batches tr[data-batch="${paused.batchId}"][data-state=paused]`, { timeout: 10_000 });
    assert.equal(await page.textContent(`[data-eta="${paused.batchId}"]`), 'paused');
    await assertFits(page, 'overview with a banner at 1440 px');
    await shot(page, 'dashboard-paused-1440.png');
    await page.click('#alerts [data-alert=paused][data-queue=detect] button[data-action=resume]');
    await page.waitForSelector('#notice[data-outcome=ok]:has-text("detect resumed")');
    await page.waitForSelector(`#batches tr[data-batch="${paused.batchId}"][data-state=finished]`, { timeout: 60_000 });
    assert.equal(await page.locator('#alerts [data-alert=paused]').count(), 0);
    // A one-file batch has no meaningful rate: none is shown (a whole-life average said "502.5/s").
    assert.equal(await page.textContent(`#batches tr[data-batch="${paused.batchId}"] td[data-label=rate]`), '–');
    await page.close();
  });
  test('finished one-file uploads fold into one row, which unfolds on click', async () => {
    const small = [await upload(service.url, '/v1/images', [{ rel: photos[0] }]), await upload(service.url, '/v1/images', [{ rel: photos[3] }])];
    const page = await signedIn.newPage();
    await page.goto(`${service.url}/dashboard`);
    const group = '#batches tr[data-group]'; // the newest group: these two and any earlier small uploads next to them
    await page.waitForSelector(group, { timeout: 10_000 });
    assert.match((await page.textContent(group)) ?? '', /[2-9] small uploads/);
    assert.equal(await page.locator(`#batches tr[data-batch="${small[1]!.batchId}"]`).count(), 0, 'folded');
    await page.click(group);
    await page.waitForSelector(`#batches tr.member[data-batch="${small[1]!.batchId}"]`);
    assert.ok(await page.isVisible(`#batches tr[data-batch="${mainBatch.batchId}"]`), 'the larger upload stays a row of its own');
    await page.close();
  });

  test('the People page at 1440 and 390 px: a cluster named in its row from a phone; people with their face counts; a person\'s page shows their photos', async () => {
    // Photos of someone nobody enrolled: the face index groups them into a cluster.
    const unnamed = await upload(service.url, '/v1/images', readdirSync(dataPath(clooneyDir)).sort().map((f) => ({ rel: `${clooneyDir}/${f}` })));
    for (const f of unnamed.files) {
      for (let i = 0; i < 600; i += 1) {
        const status = (await (await fetch(`${service.url}/v1/images/${f.imageId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string };
        if (status.status === 'done' || status.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const page = await signedIn.newPage();
    const phoneContext = await browser.newContext({ viewport: widths.phone });
    await phoneContext.addCookies(await signedIn.cookies());
    const phone = await phoneContext.newPage();
    const errors: string[] = [];
    for (const p of [page, phone]) p.on('pageerror', (err) => errors.push(err.message));
    for (const p of [page, phone]) {
      await p.goto(`${service.url}/dashboard`);
      await p.waitForSelector('body[data-loaded=true]');
      await p.click('#people-link');
      await p.waitForSelector('body[data-people-loaded=true]', { timeout: 10_000 });
    }
    const row = page.locator('#clusters .cluster-row').first();
    assert.ok((await row.locator('.chip').count()) >= 3, 'a row of crops');
    await assertFits(page, 'people page with clusters at 1440 px');
    await shot(page, 'people-clusters-1440.png');

    // At 390 px: nothing sideways, every control inside the window and big enough to tap; the
    // cluster is named from the phone.
    const phoneRow = phone.locator('#clusters .cluster-row').first();
    assert.ok((await phoneRow.locator('.chip').count()) >= 3, 'a row of crops at 390 px');
    await assertFits(phone, 'people page with clusters at 390 px');
    await assertUsable(phone, '#clusters .cluster-row input[name=name]', 'the name field at 390 px');
    await assertUsable(phone, '#clusters .cluster-row button[type=submit]', 'the Name button at 390 px');
    await shot(phone, 'people-clusters-390.png');
    // A name someone has already: asked before merging into them; dismissed, nothing changes.
    let asked = '';
    phone.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await phoneRow.locator('input[name=name]').fill('Barack Obama');
    await phoneRow.locator('button[type=submit]').click();
    await phone.waitForSelector('#notice:has-text("Nothing changed")');
    assert.match(asked, /Merge cluster \d+ .* into existing Barack Obama\?/);
    assert.equal(await phone.locator('#clusters .cluster-row').count(), await page.locator('#clusters .cluster-row').count(), 'the cluster is still there');
    await phoneRow.locator('input[name=name]').fill('George Clooney');
    await phoneRow.locator('button[type=submit]').click();
    // A preview first: what the name would spread to; cancelled, nothing changes; then confirmed.
    const preview = phoneRow.locator('.name-preview');
    await preview.waitFor({ timeout: 10_000 });
    assert.match((await preview.locator('p').textContent()) ?? '', /^Naming it George Clooney: \d+ faces? of the cluster, \d+ more across the library/);
    await shot(phone, 'people-name-preview-390.png');
    await preview.locator('button[data-action=cancel-name]').click();
    await phone.waitForSelector('#notice:has-text("Nothing changed")');
    assert.equal(await phoneRow.locator('.name-preview').count(), 0);
    assert.equal((await fetch(`${service.url}/v1/people/George%20Clooney`, { headers: { authorization: `Bearer ${token}` } })).status, 404, 'the preview named nobody');
    await phoneRow.locator('button[type=submit]').click();
    await preview.locator('button[data-action=confirm-name]').click();
    await phone.waitForSelector('#notice[data-outcome=ok]:has-text("is George Clooney")', { timeout: 10_000 });
    await phone.waitForSelector('#library-people tr[data-person="George Clooney"]', { timeout: 10_000 });
    const listed = (await (await fetch(`${service.url}/v1/people`, { headers: { authorization: `Bearer ${token}` } })).json()) as { people: { name: string; faceCount: number }[] };
    const obama = listed.people.find((p) => p.name === 'Barack Obama');
    assert.ok(obama && obama.faceCount >= 2, JSON.stringify(listed));
    assert.ok((listed.people.find((p) => p.name === 'George Clooney')?.faceCount ?? 0) >= 3, JSON.stringify(listed));
    for (const p of listed.people) assert.equal(await phone.textContent(`#library-people tr[data-person="${p.name}"] [data-count=faces]`), String(p.faceCount), `${p.name} at 390 px`);
    await assertFits(phone, 'people page at 390 px');
    for (const control of ['select[name=from]', 'select[name=into]', 'button[type=submit]']) await assertUsable(phone, `#merge-people ${control}`, `merge: ${control} at 390 px`);
    await assertUsable(phone, `#library-people a[href="#person/${encodeURIComponent('Barack Obama')}"]`, "a person's link at 390 px");
    await shot(phone, 'people-390.png');

    // The overview's gallery counts a cluster-named person's examples (not "0 enrolled").
    await page.goto(`${service.url}/dashboard`);
    const clooneyCard = page.locator('#people .card[data-person="George Clooney"] [data-counts]');
    await clooneyCard.waitFor({ timeout: 10_000 });
    const clooney = listed.people.find((p) => p.name === 'George Clooney')!;
    assert.match((await clooneyCard.textContent()) ?? '', new RegExp(`^[1-9]\\d* examples?, ${clooney.faceCount} faces?$`));
    await page.goto(`${service.url}/dashboard#people`);
    await page.waitForSelector('body[data-people-loaded=true]', { timeout: 10_000 });
    await page.waitForSelector('#library-people tr[data-person="George Clooney"]', { timeout: 10_000 });
    for (const p of listed.people) assert.equal(await page.textContent(`#library-people tr[data-person="${p.name}"] [data-count=faces]`), String(p.faceCount), p.name);
    assert.ok(await page.isVisible('#clusters'), 'the clusters section is shown');
    await assertFits(page, 'people page at 1440 px');
    await shot(page, 'people-1440.png');
    for (const [p, width] of [[page, 1440], [phone, 390]] as const) {
      await p.click(`#library-people a[href="#person/${encodeURIComponent('Barack Obama')}"]`);
      await p.waitForSelector('body[data-person-loaded="Barack Obama"]', { timeout: 10_000 });
      await p.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#person-photos img')].every((img) => img.complete && img.naturalWidth > 0), undefined, { timeout: 10_000 });
      assert.equal(await p.locator('#person-photos .card').count(), obama.faceCount);
      await assertFits(p, `a person's page at ${width} px`);
      await shot(p, `person-${width}.png`);
    }
    await assertUsable(phone, '#person-page a[href="#people"]', 'the way back at 390 px');
    await phoneContext.close();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("people management at 1440 and 390 px: undo, a cluster's faces, not this person, ignore, rename, hide, merge and delete with confirmation, cover, confidence order; a read-only key sees no buttons; a TIFF shows", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const getJson = async <T>(path: string): Promise<T> => (await (await fetch(`${service.url}${path}`, { headers: auth })).json()) as T;
    const person = (name: string) => getJson<{ name: string; faceCount: number; hidden: boolean; cover: { imageId: string; face: number } | null; error?: unknown }>(`/v1/people/${encodeURIComponent(name)}`);
    // A TIFF (browsers show none): processed meanwhile, shown through a JPEG rendition.
    const tiffUpload = upload(service.url, '/v1/images', [{ bytes: await sharp(dataPath(photos[0]!)).tiff().toBuffer(), name: 'obama1.tiff' }]);

    const page = await signedIn.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const dialogs: string[] = [];
    /** Answers the next dialog: a prompt with `answer`, a confirm with yes (true) or no (false). */
    const answer = (reply: string | boolean) =>
      page.once('dialog', (d) => {
        dialogs.push(d.message());
        void (reply === false ? d.dismiss() : d.accept(typeof reply === 'string' ? reply : undefined));
      });
    const undo = async (action: string) => {
      // A fresh notice, so the one waited for is this undo's (whichever way it went).
      await page.evaluate(() => {
        const box = document.getElementById('notice')!;
        box.hidden = true;
        box.textContent = '';
        delete box.dataset.outcome;
      });
      await page.click(`#people-audit li[data-action="${action}"] button[data-action=undo]`);
      await page.waitForSelector('#notice[data-outcome]');
      assert.match((await page.textContent('#notice')) ?? '', /^Undone: /, `undo ${action}`);
      await page.waitForSelector(`#people-audit li[data-action="${action}"][data-undone=true]`);
    };
    await page.goto(`${service.url}/dashboard#people`);
    await page.waitForSelector('body[data-people-loaded=true]', { timeout: 10_000 });

    // The audit log names the cluster just named, by the token; undoing it brings the cluster back.
    const audit = await getJson<{ entries: { action: string; actor: string; undoable: boolean; summary: string }[] }>('/v1/people-audit');
    assert.equal(audit.entries[0]?.action, 'name-cluster', JSON.stringify(audit));
    assert.equal(audit.entries[0]?.actor, 'token');
    assert.ok(audit.entries[0]?.undoable);
    await undo('name-cluster');
    await page.waitForSelector('#clusters .cluster-row');
    assert.equal(await page.locator('#library-people tr[data-person="George Clooney"]').count(), 0);
    assert.equal((await fetch(`${service.url}/v1/people/George%20Clooney`, { headers: auth })).status, 404);

    // All faces of the cluster (paged by the API), one said not to be them, the cluster ignored; both undone.
    const row = page.locator('#clusters .cluster-row').first();
    const clusterId = (await row.getAttribute('data-cluster'))!;
    const clusterFaces = await getJson<{ faces: unknown[]; nextCursor: string | null }>(`/v1/clusters/${clusterId}/faces?limit=2`);
    assert.equal(clusterFaces.faces.length, 2);
    assert.ok(clusterFaces.nextCursor !== null, 'paged');
    const size = (await getJson<{ clusters: { id: string; faces: number }[] }>('/v1/clusters')).clusters.find((c) => c.id === clusterId)!.faces;
    await row.locator('button[data-action=all-faces]').click();
    await page.waitForSelector(`[data-cluster-faces="${clusterId}"][data-loaded="${size}"]`);
    await row.locator('.cluster-faces .cluster-face').last().locator('button[data-action=not-this-person]').click();
    await page.waitForSelector('#notice[data-outcome=ok]:has-text("left the cluster")');
    assert.equal((await getJson<{ faces: unknown[] }>(`/v1/clusters/${clusterId}/faces`)).faces.length, size - 1);
    await page.click(`#clusters .cluster-row[data-cluster="${clusterId}"] button[data-action=ignore-cluster]`);
    await page.waitForSelector(`#notice:has-text("Cluster ${clusterId} ignored")`);
    await page.waitForSelector(`#clusters .cluster-row[data-cluster="${clusterId}"]`, { state: 'detached' });
    await undo('ignore-cluster');
    await page.waitForSelector(`#clusters .cluster-row[data-cluster="${clusterId}"]`);
    await undo('not-this-person');
    assert.equal((await getJson<{ faces: unknown[] }>(`/v1/clusters/${clusterId}/faces`)).faces.length, size);
    await page.locator(`#clusters .cluster-row[data-cluster="${clusterId}"] input[name=name]`).fill('George Clooney');
    await page.click(`#clusters .cluster-row[data-cluster="${clusterId}"] button[type=submit]`);
    await page.click(`#clusters .cluster-row[data-cluster="${clusterId}"] .name-preview button[data-action=confirm-name]`);
    await page.waitForSelector('#library-people tr[data-person="George Clooney"]');
    const clooney = (await person('George Clooney')).faceCount;
    assert.ok(clooney >= size, 'the cluster and the faces it matches');

    // Rename (a prompt), then undo.
    answer('George T. Clooney');
    await page.click('#library-people tr[data-person="George Clooney"] button[data-action=rename]');
    await page.waitForSelector('#library-people tr[data-person="George T. Clooney"]');
    assert.equal((await person('George T. Clooney')).faceCount, clooney);
    await undo('rename');
    await page.waitForSelector('#library-people tr[data-person="George Clooney"]');

    // Hide: gone from the list, back with "show hidden", shown again.
    await page.click('#library-people tr[data-person="George Clooney"] button[data-action=hide]');
    await page.waitForSelector('#library-people tr[data-person="George Clooney"]', { state: 'detached' });
    assert.equal((await person('George Clooney')).hidden, true);
    await page.check('#show-hidden');
    await page.waitForSelector('#library-people tr[data-person="George Clooney"][data-hidden=true]');
    await page.click('#library-people tr[data-person="George Clooney"] button[data-action=show]');
    await page.waitForSelector('#library-people tr[data-person="George Clooney"][data-hidden=false]');
    // The list reloads on the change: wait for it, or the merge below would pick from a list about to be replaced.
    await page.evaluate(() => delete document.body.dataset.peopleLoaded);
    await page.uncheck('#show-hidden');
    await page.waitForSelector('body[data-people-loaded=true]');

    // Merge asks first: no changes nothing; yes merges; undo splits them again.
    const [kit, obama] = [await person('Kit Harington'), await person('Barack Obama')];
    await page.selectOption('#merge-people select[name=from]', 'Kit Harington');
    await page.selectOption('#merge-people select[name=into]', 'Barack Obama');
    answer(false);
    await page.click('#merge-people button[type=submit]');
    await page.waitForSelector('#notice:has-text("Nothing changed: not merged")');
    assert.equal((await person('Kit Harington')).faceCount, kit.faceCount);
    answer(true);
    await page.click('#merge-people button[type=submit]');
    await page.waitForSelector('#library-people tr[data-person="Kit Harington"][data-indexed=true]', { state: 'detached' });
    assert.equal((await fetch(`${service.url}/v1/people/Kit%20Harington`, { headers: auth })).status, 404, 'merged away');
    await undo('merge');
    await page.waitForSelector('#library-people tr[data-person="Kit Harington"][data-indexed=true]');
    assert.equal((await person('Kit Harington')).faceCount, kit.faceCount);
    assert.equal((await person('Barack Obama')).faceCount, obama.faceCount);

    // Delete asks first (the API's semantics: their faces become nobody's); undo makes them again.
    answer(false);
    await page.click('#library-people tr[data-person="Kit Harington"] button[data-action=delete]');
    assert.equal((await person('Kit Harington')).faceCount, kit.faceCount);
    answer(true);
    await page.click('#library-people tr[data-person="Kit Harington"] button[data-action=delete]');
    await page.waitForSelector('#library-people tr[data-person="Kit Harington"][data-indexed=true]', { state: 'detached' });
    assert.equal((await fetch(`${service.url}/v1/people/Kit%20Harington`, { headers: auth })).status, 404);
    await undo('delete');
    await page.waitForSelector('#library-people tr[data-person="Kit Harington"][data-indexed=true]');
    assert.equal((await person('Kit Harington')).faceCount, kit.faceCount);
    assert.ok(dialogs.some((m) => /Merge Kit Harington into Barack Obama\?/.test(m)) && dialogs.some((m) => /Delete Kit Harington\?/.test(m)), dialogs.join(' | '));
    // Counts on the page are the API's; each person has a picture.
    const listed = (await getJson<{ people: { name: string; faceCount: number; cover?: unknown }[] }>('/v1/people')).people;
    for (const p of listed) assert.equal(await page.textContent(`#library-people tr[data-person="${p.name}"] [data-count=faces]`), String(p.faceCount), p.name);
    assert.ok(await page.locator('#library-people tr[data-person="Barack Obama"] .cover').count() === 1, 'a cover picture');

    // The TIFF is processed (named automatically: it is obama1.jpg) and shown.
    const tiff = (await tiffUpload).files[0]!.imageId!;
    for (let i = 0; i < 300 && (await getJson<{ status: string }>(`/v1/images/${tiff}`)).status !== 'done'; i += 1) await new Promise((r) => setTimeout(r, 200));
    const display = await fetch(`${service.url}/v1/images/${tiff}/display`, { headers: auth });
    assert.equal(display.status, 200);
    assert.equal(display.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(await sharp(Buffer.from(await display.arrayBuffer())).metadata().then((m) => [m.format, m.width]), ['jpeg', (await sharp(dataPath(photos[0]!)).metadata()).width]);

    // A person's page: by confidence (examples first, then nearest first), the face boxed on its photo, as many cards as faces.
    for (const [p, width] of [[page, 1440]] as const) {
      await p.goto(`${service.url}/dashboard#person/${encodeURIComponent('Barack Obama')}`);
      await p.waitForSelector('body[data-person-loaded="Barack Obama"]', { timeout: 10_000 });
      await p.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#person-photos img')].every((img) => img.complete && img.naturalWidth > 0), undefined, { timeout: 10_000 });
      const cards = await p.$$eval('#person-photos .card', (els) =>
        els.map((el) => {
          const img = el.querySelector('img')!;
          return {
            image: (el as HTMLElement).dataset.image,
            how: (el as HTMLElement).dataset.how,
            distance: Number((el as HTMLElement).dataset.distance || 0),
            boxes: el.querySelectorAll('svg rect.subject').length,
            viewBox: el.querySelector('svg')!.getAttribute('viewBox'),
            natural: `0 0 ${img.naturalWidth} ${img.naturalHeight}`,
          };
        }),
      );
      const faces = (await person('Barack Obama')).faceCount;
      assert.equal(cards.length, faces, 'as many cards as the API counts faces');
      assert.ok(cards.some((c) => c.image === tiff), 'the TIFF is among them (auto-named)');
      const rank = (c: { how?: string }) => (c.how === 'enrolled' || c.how === 'hand' ? 0 : 1);
      for (let i = 1; i < cards.length; i += 1) {
        const [a, b] = [cards[i - 1]!, cards[i]!];
        assert.ok(rank(a) < rank(b) || (rank(a) === rank(b) && a.distance <= b.distance), `confidence order: ${JSON.stringify(cards)}`);
      }
      assert.ok(cards.every((c) => c.boxes === 1 && c.viewBox === c.natural), `one box per photo, in its pixels: ${JSON.stringify(cards)}`);
      await assertFits(p, `a person's page at ${width} px`);
      await shot(p, `person-managed-${width}.png`);

      // The weakest face as the cover; then "not this person" on it, and "not a face" on the next: both undone.
      const last = p.locator('#person-photos .card').last();
      const [lastImage, lastFace] = [(await last.getAttribute('data-image'))!, Number(await last.getAttribute('data-face'))];
      await last.locator('button[data-action=cover]').click();
      await p.waitForSelector(`#person-title .cover[data-cover="${lastImage}/${lastFace}"]`);
      const cover = (await person('Barack Obama')).cover;
      assert.deepEqual(cover && [cover.imageId, cover.face], [lastImage, lastFace]);
      await last.locator('button[data-action=not-this-person]').click();
      await p.waitForSelector('#notice[data-outcome=ok]:has-text("is not Barack Obama any more")');
      await p.waitForFunction((n) => document.querySelectorAll('#person-photos .card').length === n, faces - 1);
      assert.equal((await person('Barack Obama')).faceCount, faces - 1);
      await p.locator('#person-photos .card').last().locator('button[data-action=not-a-face]').click();
      await p.waitForFunction((n) => document.querySelectorAll('#person-photos .card').length === n, faces - 2);
      assert.equal((await person('Barack Obama')).faceCount, faces - 2);
      const log = await getJson<{ entries: { action: string }[] }>('/v1/people-audit?limit=3');
      assert.deepEqual(log.entries.map((e) => e.action), ['not-a-face', 'not-this-person', 'cover']);
      for (const action of ['not-a-face', 'not-this-person']) {
        const entry = (await getJson<{ entries: { id: string; action: string; undoable: boolean }[] }>('/v1/people-audit?limit=5')).entries.find((e) => e.undoable)!;
        assert.equal(entry.action, action);
        const res = await fetch(`${service.url}/v1/people-audit/undo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: entry.id }) });
        assert.equal(res.status, 200, action);
      }
      assert.equal((await person('Barack Obama')).faceCount, faces);
    }

    // At 390 px: the people actions fit and can be tapped.
    const phoneContext = await browser.newContext({ viewport: widths.phone });
    await phoneContext.addCookies(await signedIn.cookies());
    const phone = await phoneContext.newPage();
    await phone.goto(`${service.url}/dashboard#people`);
    await phone.waitForSelector('body[data-people-loaded=true]', { timeout: 10_000 });
    await assertFits(phone, 'people management at 390 px');
    for (const action of ['rename', 'hide', 'delete']) await assertUsable(phone, `#library-people tr[data-person="Barack Obama"] button[data-action=${action}]`, `${action} at 390 px`);
    await assertUsable(phone, '#people-audit button[data-action=undo]', 'undo at 390 px');
    await shot(phone, 'people-managed-390.png');
    await phone.goto(`${service.url}/dashboard#person/${encodeURIComponent('Barack Obama')}`);
    await phone.waitForSelector('body[data-person-loaded="Barack Obama"]', { timeout: 10_000 });
    await assertFits(phone, "a person's page with actions at 390 px");
    await assertUsable(phone, '#person-photos button[data-action=not-this-person]', 'not this person at 390 px');
    await phoneContext.close();

    // A read-only key: the same pages without a button that would change anything.
    const created = await fetch(`${service.url}/v1/keys`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'viewer', scopes: ['read'] }) });
    const { key } = (await created.json()) as { key: string };
    const viewerContext = await browser.newContext({ viewport: widths.desktop });
    const viewer = await viewerContext.newPage();
    await viewer.goto(`${service.url}/dashboard/login?token=${encodeURIComponent(key)}`);
    await viewer.waitForSelector('body[data-loaded=true]', { timeout: 10_000 });
    assert.equal(await viewer.getAttribute('body', 'data-scopes'), 'read');
    await viewer.waitForSelector('#queues td[data-count=completed]');
    await viewer.waitForSelector('#failures [data-code=TRUNCATED_IMAGE]', { timeout: 20_000 });
    assert.equal(await viewer.locator('#queues button, #failures button').count(), 0, 'no Pause, Resume, Retry or Discard');
    await viewer.click('#people-link');
    await viewer.waitForSelector('body[data-people-loaded=true]', { timeout: 10_000 });
    await viewer.waitForSelector('#library-people tr[data-person="Barack Obama"]');
    assert.equal(await viewer.locator('#clusters form, #merge-people, #library-people button, #people-audit button').count(), 0, 'no Name, Merge, Rename, Hide, Delete or Undo');
    await viewer.click(`#library-people a[href="#person/${encodeURIComponent('Barack Obama')}"]`);
    await viewer.waitForSelector('body[data-person-loaded="Barack Obama"]', { timeout: 10_000 });
    assert.equal(await viewer.locator('#person-photos button').count(), 0, 'no face actions');
    await viewerContext.close();
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('the dashboard of a deployment whose workers are not running', { skip }, () => {
  let redis: TestRedis;
  let s3: TestS3;
  let producer: Producer;
  let bare: RunningService;
  let chrome: Browser;
  before(async () => {
    [redis, s3] = await Promise.all([startRedis(), startS3()]);
    const config = loadConfig({ ...s3.env, REDIS_URL: redis.url, FACEPIPE_LOG_LEVEL: 'silent', FACEPIPE_API_TOKEN: token, FACEPIPE_DASHBOARD_STALL_S: '3' });
    producer = await Producer.connect(config, 'service');
    await producer.ctx.store.ensureBucket();
    bare = await startService({ config, producer, host: '127.0.0.1', port: 0 });
    chrome = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });
  after(async () => {
    await chrome?.close();
    await bare?.close();
    await producer?.close();
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
  });

  test('waiting jobs and no worker: a banner, and the batch says it waits for workers; emptied, it stalls (at 390 px)', async () => {
    const waiting = await upload(bare.url, '/v1/images', [{ rel: withoutWorkers }]);
    const context = await chrome.newContext({ viewport: widths.phone });
    const form = await context.newPage();
    await form.goto(`${bare.url}/dashboard`);
    const input = await form.locator('input[name=token]').boundingBox();
    assert.ok(input && input.width >= 250 && input.height >= 30, `the sign-in field is readable on a phone: ${JSON.stringify(input)}`);
    await assertFits(form, 'sign-in at 390 px');
    await shot(form, 'sign-in-390.png');
    await form.close();
    const page = await signIn(bare.url, context);
    await page.waitForSelector('#alerts [data-alert=no-workers][data-queue=detect]');
    assert.match((await page.textContent('#alerts [data-alert=no-workers][data-queue=detect]')) ?? '', /1 job waiting and no worker/);
    await page.waitForSelector(`#batches tr[data-batch="${waiting.batchId}"][data-state=waiting]`);
    assert.equal(await page.textContent(`[data-eta="${waiting.batchId}"]`), 'waiting for workers');
    await assertFits(page, 'no-workers banner at 390 px');
    await shot(page, 'dashboard-no-workers-390.png');

    // Someone empties the queue: nothing waits any more, yet the batch cannot finish — stalled.
    await producer.ctx.queues.detect.drain();
    await page.waitForSelector(`#alerts [data-alert=stalled][data-batch="${waiting.batchId}"]`, { timeout: 15_000 });
    assert.equal(await page.locator('#alerts [data-alert=no-workers]').count(), 0);
    assert.equal(await page.getAttribute(`#batches tr[data-batch="${waiting.batchId}"]`, 'data-state'), 'stalled');
    await page.click(`#alerts [data-alert=stalled] a`);
    await page.waitForSelector(`body[data-batch-loaded="${waiting.batchId}"]`);
    await assertFits(page, 'stalled batch page at 390 px');
    await shot(page, 'batch-stalled-390.png');
    await context.close();
  });
});
