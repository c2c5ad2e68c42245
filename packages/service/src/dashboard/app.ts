/**
 * The dashboard's browser script (compiled by its own tsconfig, with the DOM library; served as
 * /dashboard/app.js). It polls the JSON under /dashboard/api and renders with DOM calls only —
 * textContent, never innerHTML with data — since file names and sources come from uploaders.
 * The shapes it reads are the service's own types (api-types.ts), imported as types only.
 */
import type {
  BatchDetail,
  BatchItem,
  BatchItems,
  BatchKind,
  BatchState,
  Cluster,
  ClusterFaces,
  ClusterNamePreview,
  CodeCount,
  FaceAnswer,
  DashboardSession,
  DashboardAlert,
  DashboardBatch,
  ItemFace,
  ItemRejected,
  LibraryPerson,
  Overview,
  People,
  PeopleAuditEntry,
  PersonEntry,
  PersonFaces,
  QueueFailures,
  QueueOverview,
  RecentResult,
  UploadGroup,
} from './api-types.js';

const pollMs = 2000;
const slowPollMs = 8000;
const itemsPerPage = 24;

type Face = ItemFace;
type Rejected = ItemRejected;

/** `NOT_A_FACE (cat)`, or the bare reason. */
const rejectedLabel = (r: Rejected): string => (r.looksLike ? `${r.reason} (${r.looksLike})` : r.reason);

// ---- DOM helpers ----

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener | Record<string, string>>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset' && typeof v === 'object') Object.assign(el.dataset, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const svgNs = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(svgNs, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
const ms = (n: number | null) => (n === null ? '–' : n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);
function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}
const plural = (n: number, word: string) => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;
const kindLabel: Record<BatchKind, string> = { ingest: 'ingest', upload: 'upload', enroll: 'enroll', reindex: 're-index' };

// ---- talking to the service ----

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
  if (res.status === 401) {
    location.href = '/dashboard';
    throw new Error('signed out');
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

/** Who is signed in and what they may do; buttons they may not use are not shown. */
let session: DashboardSession = { who: 'open', keyId: null, keyName: null, scopes: [] };
const can = (scope: DashboardSession['scopes'][number]) => session.scopes.includes(scope);

const post = <T>(path: string) => api<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

let noticeTimer: number | undefined;
/** Says how an action went, where it can be seen whatever was scrolled to. */
function notice(message: string, ok: boolean): void {
  const box = byId('notice');
  box.textContent = message;
  box.className = ok ? 'ok' : 'error';
  box.hidden = false;
  box.dataset.outcome = ok ? 'ok' : 'error';
  window.clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => (box.hidden = true), ok ? 6000 : 12000);
}

/** Runs an action with feedback either way, then refreshes what it changed. */
function act<T>(run: () => Promise<T>, success: (result: T) => string, after: () => Promise<void>): void {
  run().then(
    (result) => {
      notice(success(result), true);
      return after();
    },
    (err: unknown) => notice(`Failed: ${err instanceof Error ? err.message : String(err)}`, false),
  ).catch((err: unknown) => console.warn(err));
}

// ---- overview ----

function sparkline(values: number[]): SVGElement {
  const w = 120;
  const hgt = 24;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${((i * w) / Math.max(values.length - 1, 1)).toFixed(1)},${(hgt - (v / max) * (hgt - 2) - 1).toFixed(1)}`).join(' ');
  return s('svg', { class: 'spark', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}` }, s('polyline', { points: pts }));
}

function pauseButton(queue: string, paused: boolean): HTMLButtonElement | null {
  if (!can('admin')) return null;
  const verb = paused ? 'resume' : 'pause';
  return h(
    'button',
    {
      type: 'button',
      dataset: { action: verb, queue },
      onclick: () => act(() => post<{ paused: boolean }>(`/dashboard/api/queues/${queue}/${verb}`), (r) => `${queue} ${r.paused ? 'paused' : 'resumed'}`, refresh),
    },
    paused ? 'Resume' : 'Pause',
  );
}

function renderAlerts(alerts: DashboardAlert[]): void {
  byId('alerts').replaceChildren(
    ...alerts.map((a) =>
      h(
        'div',
        { class: `alert alert-${a.severity}`, role: 'alert', dataset: { alert: a.kind, ...(a.queue ? { queue: a.queue } : {}), ...(a.batchId ? { batch: a.batchId } : {}) } },
        h('span', {}, a.message),
        a.kind === 'paused' && a.queue ? pauseButton(a.queue, true) : null,
        a.batchId ? h('a', { href: `#batch/${encodeURIComponent(a.batchId)}` }, 'open batch') : null,
      ),
    ),
  );
}

function renderQueues(queues: QueueOverview[]): void {
  const body = document.querySelector('#queues tbody')!;
  body.replaceChildren(
    ...queues.map((q) => {
      const perMin = q.completedPerMinute;
      const average = perMin.reduce((a, b) => a + b, 0) / Math.max(perMin.length, 1);
      const waiting = q.counts.waiting + q.counts.prioritized;
      const cell = (state: keyof QueueOverview['counts']) =>
        h('td', { class: 'num', dataset: { queue: q.name, count: state } }, fmt(state === 'waiting' ? waiting : q.counts[state]));
      return h(
        'tr',
        { dataset: { queue: q.name } },
        h('td', {}, q.name, q.paused ? h('span', { class: 'paused' }, ' (paused)') : null),
        cell('waiting'),
        cell('active'),
        cell('delayed'),
        cell('completed'),
        cell('failed'),
        h('td', { class: q.workers === 0 && waiting > 0 ? 'num paused' : 'num', dataset: { queue: q.name, count: 'workers' } }, fmt(q.workers)),
        h(
          'td',
          { title: 'completed per minute, oldest to this minute' },
          sparkline(perMin),
          ' ',
          h('span', { dataset: { queue: q.name, rate: 'current' } }, fmt(perMin[perMin.length - 1])),
          ' this min, ',
          average.toFixed(1),
          '/min avg',
        ),
        h('td', {}, ms(q.latency.waitMs.p50), ' / ', ms(q.latency.waitMs.p95)),
        h('td', {}, ms(q.latency.processMs.p50), ' / ', ms(q.latency.processMs.p95), ' / ', ms(q.latency.processMs.p99)),
        h('td', {}, pauseButton(q.name, q.paused)),
      );
    }),
  );
}

function stateTag(state: BatchState): HTMLElement {
  return h('span', { class: `state state-${state}`, dataset: { state } }, state === 'waiting' ? 'no workers' : state);
}

function timeLeft(b: { state: BatchState; etaSeconds: number | null; durationSeconds: number | null }): string {
  if (b.state === 'finished') return b.durationSeconds === null ? 'finished' : `finished in ${duration(b.durationSeconds)}`;
  if (b.state === 'paused') return 'paused';
  if (b.state === 'waiting') return 'waiting for workers';
  if (b.state === 'stalled') return 'stalled';
  return duration(b.etaSeconds);
}

function openBatch(id: string): void {
  location.hash = `#batch/${encodeURIComponent(id)}`;
}

function batchRow(b: DashboardBatch, extraClass = ''): HTMLTableRowElement {
  return h(
    'tr',
    {
      class: `clickable ${extraClass}`,
      tabindex: 0,
      dataset: { batch: b.id, kind: b.kind, state: b.state },
      onclick: () => openBatch(b.id),
      onkeydown: ((e: KeyboardEvent) => {
        if (e.key === 'Enter') openBatch(b.id);
      }) as EventListener,
    },
    h('td', { class: 'wrap', 'data-label': 'batch' }, h('a', { href: `#batch/${encodeURIComponent(b.id)}` }, b.id), ' ', h('span', { class: 'muted' }, kindLabel[b.kind] + (b.open ? ', open' : '')), ' ', stateTag(b.state)),
    h('td', { class: 'wrap', 'data-label': 'source' }, b.source),
    h('td', { 'data-label': 'progress' }, h('progress', { max: 1, value: b.progress }), ' ', `${Math.round(b.progress * 100)}% of ${fmt(b.total)}`),
    h('td', { class: 'num', 'data-label': 'done' }, fmt(b.done)),
    h('td', { class: 'num', 'data-label': 'failed' }, fmt(b.failed)),
    h('td', { class: 'num', 'data-label': 'faces' }, fmt(b.faces)),
    h('td', { 'data-label': 'rate' }, b.ratePerSecond === null ? '–' : `${b.ratePerSecond.toFixed(1)}/s`),
    h('td', { 'data-label': 'time left', dataset: { eta: b.id } }, timeLeft(b)),
  );
}

const expandedGroups = new Set<string>();

function renderBatches(rows: (DashboardBatch | UploadGroup)[]): void {
  const body = document.querySelector('#batches tbody')!;
  if (rows.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'no batches of this kind')));
    return;
  }
  body.replaceChildren(
    ...rows.flatMap((row) => {
      if (row.kind !== 'upload-group') return [batchRow(row)];
      const key = row.batches[row.batches.length - 1]!.id;
      const open = expandedGroups.has(key);
      const toggle = () => {
        if (open) expandedGroups.delete(key);
        else expandedGroups.add(key);
        refresh().catch((err: unknown) => console.warn(err));
      };
      const head = h(
        'tr',
        {
          class: 'clickable group',
          tabindex: 0,
          'aria-expanded': String(open),
          dataset: { group: key },
          onclick: toggle,
          onkeydown: ((e: KeyboardEvent) => {
            if (e.key === 'Enter') toggle();
          }) as EventListener,
        },
        h('td', { class: 'wrap', 'data-label': 'batch' }, `${open ? '▾' : '▸'} ${row.batches.length} small uploads `, stateTag(row.state)),
        h('td', { class: 'wrap', 'data-label': 'source' }, `${new Date(row.oldestAt).toLocaleTimeString()} – ${new Date(row.newestAt).toLocaleTimeString()}`),
        h('td', { 'data-label': 'progress' }, h('progress', { max: 1, value: row.total ? (row.done + row.failed) / row.total : 0 }), ' ', `${plural(row.total, 'file')}`),
        h('td', { class: 'num', 'data-label': 'done' }, fmt(row.done)),
        h('td', { class: 'num', 'data-label': 'failed' }, fmt(row.failed)),
        h('td', { class: 'num', 'data-label': 'faces' }, fmt(row.faces)),
        h('td', { 'data-label': 'rate' }, '–'),
        h('td', { 'data-label': 'time left' }, row.state === 'finished' ? 'finished' : row.state),
      );
      return [head, ...(open ? row.batches.map((b) => batchRow(b, 'member')) : [])];
    }),
  );
}

const retryButton = (label: string, onclick: () => void) => (can('admin') ? h('button', { type: 'button', dataset: { action: 'retry' }, onclick }, label) : null);

/** One error code's failures: the code, how many, what it means, a retry button unless retrying cannot help, then `more`. */
function failureLine(f: CodeCount, retry: HTMLElement | null, ...more: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'failure', dataset: { code: f.code, retryable: String(f.retryable) } },
    h('code', {}, f.code),
    ' × ',
    h('span', { dataset: { count: 'failures' } }, fmt(f.count)),
    ' ',
    h('span', { class: 'muted' }, f.summary),
    ' ',
    f.retryable ? retry : h('span', { class: 'tag', title: 'the same bytes fail the same way' }, 'input error: retrying cannot help'),
    ...more,
  );
}

function renderFailures(queues: QueueFailures[]): void {
  const blocks = queues
    .filter((q) => q.groups.length > 0)
    .map((q) =>
      h(
        'div',
        { dataset: { queue: q.queue } },
        h('h3', {}, `${q.queue}: ${fmt(q.failed)} failed`),
        ...q.groups.map((g) =>
          failureLine(
            g,
            retryButton('Retry all', () =>
              act(() => post<{ retried: number }>(`/dashboard/api/queues/${q.queue}/failures/${g.code}/retry`), (r) => `Retried ${plural(r.retried, 'job')} of ${q.queue} (${g.code})`, loadFailures),
            ),
            ' ',
            can('admin') && h(
              'button',
              {
                type: 'button',
                dataset: { action: 'discard' },
                onclick: () => {
                  if (!confirm(`Discard all ${g.count} ${g.code} jobs of ${q.queue}? Their failed results stay in storage.`)) return;
                  act(() => post<{ discarded: number }>(`/dashboard/api/queues/${q.queue}/failures/${g.code}/discard`), (r) => `Discarded ${plural(r.discarded, 'job')} of ${q.queue} (${g.code})`, loadFailures);
                },
              },
              'Discard all',
            ),
            g.sample
              ? h(
                  'div',
                  { class: 'muted' },
                  'e.g. job ',
                  h('a', { href: `/dashboard/jobs/queue/${q.queue}/${encodeURIComponent(g.sample.id)}` }, g.sample.id),
                  ' ',
                  g.sample.data.source ?? '',
                  ': ',
                  g.sample.failedReason,
                )
              : null,
          ),
        ),
      ),
    );
  byId('failures').replaceChildren(...(blocks.length ? blocks : [h('p', { class: 'muted' }, 'no failed jobs')]));
}

// ---- pictures ----

function faceLabel(f: Face): HTMLElement {
  const title =
    f.naming === 'hand'
      ? `named by hand${f.matchName && f.matchName !== f.name ? ` (automatic match: ${f.matchName})` : ''}`
      : f.naming === 'named'
        ? 'named with its cluster or enrolled'
        : f.naming === 'auto'
          ? 'automatic match'
          : 'no name: no person\'s examples near enough';
  const distance = f.distance === null || f.naming === 'hand' || f.naming === 'named' ? '' : ` ${f.distance.toFixed(2)}`;
  return h('span', { class: `naming-${f.naming}`, title, dataset: { naming: f.naming } }, (f.name ?? 'unknown') + distance);
}

/** The photo as a browser can show it (a JPEG rendition of TIFF, HEIC…). */
const displayUrl = (imageId: string) => `/v1/images/${imageId}/display`;

/**
 * A photo with one face outlined: the overlay takes the picture's own size once it has loaded
 * (boxes are in the upright photo's pixels, as the rendition is).
 */
function boxedPhoto(imageId: string, source: string, box: number[]): HTMLElement {
  const [x, y, w, hh] = box as [number, number, number, number];
  const overlay = s('svg', { viewBox: '0 0 1 1', preserveAspectRatio: 'none' }, s('rect', { x, y, width: w, height: hh, class: 'subject' }));
  const img = h('img', { src: displayUrl(imageId), alt: source, loading: 'lazy' });
  const fit = () => overlay.setAttribute('viewBox', `0 0 ${img.naturalWidth || 1} ${img.naturalHeight || 1}`);
  img.addEventListener('load', fit);
  if (img.complete) fit();
  return h('div', { class: 'photo' }, img, overlay);
}

function chip(imageId: string, cropIndex: number, label: Node | string): HTMLElement {
  return h('div', { class: 'crop' }, h('div', { class: 'chip', style: `background-image:url(/v1/images/${imageId}/crops);background-position:0 -${cropIndex * 75}px` }), label);
}

function photo(imageId: string, source: string, width: number | null, height: number | null, faces: Face[], rejected: Rejected[] = []): HTMLElement {
  const overlay = s('svg', { viewBox: `0 0 ${width ?? 1} ${height ?? 1}`, preserveAspectRatio: 'none' });
  // Labels in image pixels, sized so they read at the displayed width (about 21rem).
  const size = Math.max(10, Math.round((width ?? 336) / 22));
  // Set-aside detections first, so the kept faces' outlines are drawn over them.
  for (const r of rejected) {
    const [x, y, w, hh] = r.box;
    overlay.append(s('rect', { x, y, width: w, height: hh, class: 'rejected', 'data-reason': r.reason }, s('title', {}, `set aside: ${rejectedLabel(r)}, score ${r.score.toFixed(2)}`)));
    overlay.append(s('text', { x, y: y + hh + size, class: 'rejected', 'font-size': Math.round(size * 0.8), 'stroke-width': Math.max(1, size / 8) }, rejectedLabel(r)));
  }
  for (const f of faces) {
    const [x, y, w, hh] = f.box;
    overlay.append(s('rect', { x, y, width: w, height: hh, class: f.naming === 'hand' ? 'hand' : f.name ? 'known' : 'unknown' }));
    overlay.append(s('text', { x, y: y > size * 1.2 ? y - size * 0.3 : y + hh + size, 'font-size': size, 'stroke-width': Math.max(1, size / 7) }, (f.naming === 'hand' ? '✎ ' : '') + (f.name ?? 'unknown')));
  }
  return h('div', { class: 'photo' }, h('img', { src: displayUrl(imageId), alt: source, loading: 'lazy' }), overlay);
}

/** "2 set aside: NOT_A_FACE ×2", or null when nothing was: tells "0 faces" from "nothing there". */
function setAside(rejected: readonly Rejected[]): HTMLElement | null {
  if (rejected.length === 0) return null;
  const byReason = new Map<string, number>();
  for (const r of rejected) byReason.set(rejectedLabel(r), (byReason.get(rejectedLabel(r)) ?? 0) + 1);
  const parts = [...byReason].flatMap(([reason, n], i) => [i > 0 ? ', ' : '', h('code', { dataset: { reason } }, reason), n > 1 ? ` ×${n}` : '']);
  return h('div', { class: 'set-aside', dataset: { rejected: String(rejected.length) } }, `${rejected.length} set aside: `, ...parts);
}

function resultCard(r: RecentResult): HTMLElement {
  const rejected = r.rejected ?? [];
  return h(
    'div',
    { class: 'card', dataset: { image: r.imageId } },
    photo(r.imageId, r.source, r.width, r.height, r.faces, rejected),
    h('div', {}, h('strong', {}, r.source), ' ', h('span', { class: 'muted' }, plural(r.faceCount, 'face'))),
    setAside(rejected),
    h('div', { class: 'crops' }, ...r.faces.map((f) => chip(r.imageId, f.cropIndex, faceLabel(f)))),
  );
}

function renderRecent(results: RecentResult[]): void {
  const box = byId('recent');
  if (results.length === 0) box.replaceChildren(h('p', { class: 'muted' }, 'no results yet'));
  else box.replaceChildren(...results.map(resultCard));
}

function renderPeople(data: People): void {
  data = { ...data, people: data.people.filter((p: PersonEntry) => !p.hidden) };
  const box = byId('people');
  if (data.people.length === 0) {
    box.replaceChildren(h('p', { class: 'muted' }, 'nobody enrolled yet'));
    return;
  }
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  box.replaceChildren(
    ...data.people.map((p) => {
      // Examples: enrolled photos and faces of a cluster named for them (the face index counts
      // both; the gallery alone knows only enrolled ones). Pictures: the enrolled faces, else the cover.
      const examples = p.examples ?? p.faces.length;
      const pictures = p.faces.length > 0 ? p.faces.map((f) => chip(f.imageId, f.cropIndex, '')) : p.cover ? [chip(p.cover.imageId, p.cover.face, '')] : [];
      return h(
        'div',
        { class: 'card', dataset: { person: p.name } },
        h('strong', {}, p.name),
        ' ',
        h('span', { class: 'muted', dataset: { counts: '' } }, `${plural(examples, 'example')}, ${plural(p.faceCount, 'face')}`),
        h('div', { class: 'crops' }, ...pictures),
      );
    }),
  );
}

// ---- the batch page ----

let shownBatch: string | null = null;
let itemsShown = 0;

function batchIdFromHash(): string | null {
  const m = /^#batch\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

function renderBatchDetail(d: BatchDetail): void {
  const b = d.batch;
  byId('batch-title').replaceChildren(`Batch ${b.id} `, stateTag(b.state));
  const fact = (term: string, value: Child | Child[]) => [h('dt', {}, term), h('dd', {}, ...[value].flat())];
  byId('batch-summary').replaceChildren(
    h(
      'dl',
      { class: 'facts' },
      ...fact('kind', kindLabel[b.kind] + (b.open ? ' (open: more files may come)' : '')),
      ...fact('source', b.source),
      ...fact('created', new Date(b.createdAt).toLocaleString()),
      ...fact('progress', [h('progress', { max: 1, value: b.progress }), ` ${Math.round(b.progress * 100)}% — ${fmt(b.done)} done, ${fmt(b.failed)} failed of ${fmt(b.total)}`]),
      ...fact('faces', fmt(b.faces)),
      ...fact('answered from cache', fmt(b.cached)),
      ...fact('rate (last min)', b.ratePerSecond === null ? '–' : `${b.ratePerSecond.toFixed(1)}/s`),
      ...fact('time left', h('span', { dataset: { eta: b.id } }, timeLeft(b))),
      ...fact('last progress', b.state === 'finished' ? (b.finishedAt === null ? '–' : new Date(b.finishedAt).toLocaleString()) : `${duration(b.idleSeconds)} ago`),
    ),
  );
  byId('batch-failures').replaceChildren(
    ...(d.failures.length === 0
      ? [h('p', { class: 'muted' }, 'no failures')]
      : d.failures.map((f) =>
          failureLine(
            f,
            retryButton('Retry failed', () =>
              act(
                () => post<{ retried: number }>(`/dashboard/api/batches/${encodeURIComponent(b.id)}/failures/${f.code}/retry`),
                (r) => (r.retried > 0 ? `Retried ${plural(r.retried, 'job')} of batch ${b.id} (${f.code})` : `No failed ${f.code} jobs of batch ${b.id} are left to retry (removed, or queued by another batch)`),
                refreshBatch,
              ),
            ),
          ),
        )),
  );
}

function itemCard(item: BatchItem): HTMLElement {
  const heading = h('div', {}, h('strong', {}, item.file), ' ', h('span', { class: 'muted' }, `#${item.index}`));
  if (item.status === 'failed' && item.error) {
    return h(
      'div',
      { class: 'card failed', dataset: { item: String(item.index), status: 'failed', code: item.error.code } },
      heading,
      h('div', {}, h('code', {}, item.error.code), item.error.admission ? h('span', { class: 'tag' }, ' rejected at admission') : null),
      h('div', { class: 'muted' }, item.error.message),
      item.imageId && !item.error.admission ? h('a', { href: `/v1/images/${item.imageId}/original` }, 'original') : null,
    );
  }
  if (item.status === 'pending' || !item.imageId) return h('div', { class: 'card', dataset: { item: String(item.index), status: 'pending' } }, heading, h('div', { class: 'muted' }, 'in progress'));
  const imageId = item.imageId;
  return h(
    'div',
    { class: 'card', dataset: { item: String(item.index), status: 'done', image: imageId } },
    photo(imageId, item.file, item.width, item.height, item.faces, item.rejected ?? []),
    heading,
    h('div', { class: 'muted', dataset: { count: 'faces' } }, plural(item.faces.length, 'face')),
    setAside(item.rejected ?? []),
    h('div', { class: 'crops' }, ...item.faces.map((f) => chip(imageId, f.cropIndex, faceLabel(f)))),
  );
}

/** Loads the first `count` items of batch `id` (the page reloads what it shows, so results fill in). */
async function loadItems(id: string, count: number): Promise<void> {
  const box = byId('batch-items');
  const page = await api<BatchItems>(`/dashboard/api/batches/${encodeURIComponent(id)}/items?offset=0&limit=${count}`);
  if (shownBatch !== id) return;
  itemsShown = page.items.length;
  box.replaceChildren(...(page.items.length ? page.items.map(itemCard) : [h('p', { class: 'muted' }, 'no items listed yet')]));
  byId('batch-more').hidden = page.next === null;
  document.body.dataset.batchItems = 'true';
}

async function refreshBatch(): Promise<void> {
  const id = shownBatch;
  if (id === null) return;
  const detail = await api<BatchDetail>(`/dashboard/api/batches/${encodeURIComponent(id)}`);
  if (shownBatch !== id) return;
  renderBatchDetail(detail);
  document.body.dataset.batchLoaded = id;
}

/** The person of a `#person/<name>` hash, if any. */
function personFromHash(): string | null {
  const m = /^#person\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

function showPage(): void {
  const id = batchIdFromHash();
  const person = personFromHash();
  const people = location.hash === '#people';
  byId('overview').hidden = id !== null || person !== null || people;
  byId('batch-page').hidden = id === null;
  byId('people-page').hidden = !people;
  byId('person-page').hidden = person === null;
  if (people) {
    delete document.body.dataset.peopleLoaded;
    loadPeoplePage().catch((err: unknown) => notice(`People: ${err instanceof Error ? err.message : String(err)}`, false));
  }
  if (person !== shownPerson) {
    shownPerson = person;
    personCursor = null;
    delete document.body.dataset.personLoaded;
    if (person !== null) {
      byId('person-title').textContent = person;
      byId('person-photos').replaceChildren(h('p', { class: 'muted' }, 'loading…'));
      window.scrollTo(0, 0);
      loadPerson(person).catch((err: unknown) => notice(`${person}: ${err instanceof Error ? err.message : String(err)}`, false));
    }
  }
  if (id === shownBatch) return;
  shownBatch = id;
  delete document.body.dataset.batchLoaded;
  delete document.body.dataset.batchItems;
  if (id === null) return;
  byId('batch-title').textContent = `Batch ${id}`;
  byId('batch-summary').replaceChildren(h('p', { class: 'muted' }, 'loading…'));
  byId('batch-items').replaceChildren();
  window.scrollTo(0, 0);
  refreshBatch().catch((err: unknown) => notice(`Batch ${id}: ${err instanceof Error ? err.message : String(err)}`, false));
  loadItems(id, itemsPerPage).catch((err: unknown) => console.warn(err));
}

// ---- the People page (#people) and a person's page (#person/<name>) ----

const sendJson = <T>(method: string, path: string, body: unknown) => api<T>(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const personPath = (name: string) => `/v1/people/${encodeURIComponent(name)}`;

/** Every name in the library (hidden people too), to ask before naming a cluster after one. */
let knownNames = new Set<string>();

const facePath = (imageId: string, face: number) => `/v1/faces/${imageId}/${face}`;
const actionButton = (action: string, label: string, onclick: () => void, title?: string) => h('button', { type: 'button', dataset: { action }, onclick, title }, label);

/** "Not this person" and "not a face" for one face (a person's or a cluster's), then `after`. */
function faceActions(imageId: string, face: number, after: () => Promise<void>, notThis: string): HTMLElement | null {
  if (!can('people')) return null;
  return h(
    'div',
    { class: 'face-actions' },
    actionButton('not-this-person', notThis, () =>
      act(() => post<{ was: string | null }>(`${facePath(imageId, face)}/reject`), (r) => (r.was ? `That face is not ${r.was} any more` : 'The face left the cluster'), after),
    ),
    actionButton('not-a-face', 'Not a face', () => act(() => post<{ faces: number }>(`${facePath(imageId, face)}/not-a-face`), () => 'Marked as not a face', after)),
  );
}

/** A cluster's faces, a page at a time, under its row. */
async function loadClusterFaces(c: Cluster, box: HTMLElement, cursor: string | null): Promise<void> {
  const page = await api<ClusterFaces>(`/v1/clusters/${c.id}/faces?limit=${itemsPerPage}${cursor ? `&cursor=${cursor}` : ''}`);
  const cards = page.faces.map((f) =>
    h('div', { class: 'cluster-face', dataset: { image: f.imageId, face: String(f.face) } }, chip(f.imageId, f.face, ''), faceActions(f.imageId, f.face, loadPeoplePage, 'Not this person')),
  );
  box.querySelector('[data-action=more-faces]')?.remove();
  box.querySelector('.crops')!.append(...cards);
  if (page.nextCursor !== null) {
    const next = page.nextCursor;
    box.append(actionButton('more-faces', 'Show more', () => loadClusterFaces(c, box, next).catch((err: unknown) => notice(String(err), false))));
  }
  box.dataset.loaded = String(box.querySelectorAll('.cluster-face').length);
}

/** A face's answer in a preview, in words. */
function answerWords(a: FaceAnswer): string {
  const at = a.distance === null ? '' : ` (${a.distance.toFixed(2)})`;
  if (a.name !== null) return a.how === 'auto' ? `${a.name}${at}` : a.name;
  return a.suggestion !== null ? `probably ${a.suggestion}${at}` : 'nobody';
}

/**
 * Shows, under the cluster's form, what naming it `name` would do (GET /v1/clusters/{id}/preview):
 * the faces across the library it would name, suggest or unname, with Name them / Cancel.
 */
async function previewName(c: Cluster, name: string, form: HTMLElement): Promise<void> {
  const preview = await api<ClusterNamePreview>(`/v1/clusters/${c.id}/preview?name=${encodeURIComponent(name)}`);
  const own = preview.changes.filter((f) => f.after.how === 'enrolled');
  const beyond = preview.changes.filter((f) => f.after.how !== 'enrolled');
  const named = beyond.filter((f) => f.after.how === 'auto').length;
  const suggested = beyond.filter((f) => f.after.name === null && f.after.suggestion !== null).length;
  const unnamed = beyond.filter((f) => f.after.name === null && f.before.name !== null).length;
  const words = [`${plural(own.length, 'face')} of the cluster`, `${named} more across the library`];
  if (suggested) words.push(`${plural(suggested, 'suggestion')}`);
  if (unnamed) words.push(`${plural(unnamed, 'face')} losing a name`);
  form.parentElement?.querySelector('.name-preview')?.remove();
  const box = h(
    'div',
    { class: 'name-preview', dataset: { cluster: c.id, named: String(named), suggested: String(suggested) } },
    h('p', {}, `Naming it ${name}: ${words.join(', ')}.`),
    beyond.length ? h('div', { class: 'crops' }, ...beyond.map((f) => chip(f.imageId, f.face, `${answerWords(f.after)}${f.before.name !== null || f.before.suggestion !== null ? `, was ${answerWords(f.before)}` : ''}`))) : null,
    actionButton('confirm-name', 'Name them', () => {
      box.remove();
      act(() => sendJson<{ faces: number }>('POST', `/v1/clusters/${c.id}/name`, { name }), (r) => `Cluster ${c.id} is ${name}: ${plural(r.faces, 'face')} named`, loadPeoplePage);
    }),
    actionButton('cancel-name', 'Cancel', () => {
      box.remove();
      notice(`Nothing changed: cluster ${c.id} is not named`, true);
    }),
  );
  form.after(box);
}

function renderClusters(clusters: Cluster[]): void {
  const rows = clusters.map((c) => {
    let form: HTMLElement | null = null;
    if (can('people')) {
      const input = h('input', { type: 'text', name: 'name', placeholder: 'who is this?', required: true, maxlength: 100, 'aria-label': `name for cluster ${c.id}` });
      form = h('form', { class: 'name-cluster' }, input, h('button', { type: 'submit' }, 'Name'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const name = input.value.trim();
        // Naming after someone who exists merges the cluster into them: asked, never silent.
        if (knownNames.has(name) && !confirm(`${name} exists already. Merge cluster ${c.id} (${plural(c.faces, 'face')}) into existing ${name}?`)) {
          notice(`Nothing changed: cluster ${c.id} is not named`, true);
          return;
        }
        // What the name would spread to is shown first: named only once that is confirmed.
        previewName(c, name, form!).catch((err: unknown) => notice(`Failed: ${err instanceof Error ? err.message : String(err)}`, false));
      });
    }
    const all = h('div', { class: 'cluster-faces', hidden: true, dataset: { clusterFaces: c.id } }, h('div', { class: 'crops' }));
    const toggle = actionButton('all-faces', `All ${plural(c.faces, 'face')}`, () => {
      all.hidden = !all.hidden;
      if (!all.hidden && all.dataset.loaded === undefined) loadClusterFaces(c, all, null).catch((err: unknown) => notice(String(err), false));
    });
    return h(
      'div',
      { class: 'cluster-row', dataset: { cluster: c.id } },
      h('div', { class: 'crops' }, ...c.samples.map((f) => chip(f.imageId, f.face, ''))),
      h('span', { class: 'muted' }, plural(c.faces, 'face')),
      form,
      toggle,
      can('people') &&
        actionButton('ignore-cluster', 'Ignore', () => act(() => sendJson('POST', `/v1/clusters/${c.id}/ignore`, { ignored: true }), () => `Cluster ${c.id} ignored`, loadPeoplePage), 'not offered for naming any more (strangers, posters)'),
      all,
    );
  });
  byId('clusters').replaceChildren(...(rows.length ? rows : [h('p', { class: 'muted' }, 'no clusters: every face is named, or no group of similar unnamed faces is large enough yet')]));
}

function coverPicture(p: LibraryPerson): HTMLElement | null {
  if (!p.cover) return null;
  return h('span', { class: 'cover', role: 'img', 'aria-label': `${p.name}'s cover face`, dataset: { cover: `${p.cover.imageId}/${p.cover.face}` }, style: `background-image:url(/v1/images/${p.cover.imageId}/crops);background-position:0 -${p.cover.face * 48}px` });
}

/** Whether the person is in the face index (people only the gallery knows are listed too, without `id`). */
const indexed = (p: LibraryPerson) => (p as { id?: string }).id !== undefined;

function personActions(p: LibraryPerson): HTMLElement | null {
  if (!can('people') || !indexed(p)) return null;
  const path = personPath(p.name);
  return h(
    'div',
    { class: 'person-actions' },
    actionButton('rename', 'Rename', () => {
      const name = prompt(`Rename ${p.name} to:`, p.name)?.trim();
      if (!name || name === p.name) return;
      act(() => sendJson('PATCH', path, { name }), () => `${p.name} is now ${name}`, loadPeoplePage);
    }),
    actionButton(p.hidden ? 'show' : 'hide', p.hidden ? 'Show' : 'Hide', () =>
      act(() => sendJson('PATCH', path, { hidden: !p.hidden }), () => `${p.name} ${p.hidden ? 'shown again' : 'hidden'}`, loadPeoplePage),
    ),
    actionButton('delete', 'Delete', () => {
      if (!confirm(`Delete ${p.name}? Their ${plural(p.faceCount, 'face')} become nobody's (and may be clustered again). Undo is under Recent changes.`)) return;
      act(() => api(path, { method: 'DELETE' }), () => `${p.name} deleted`, loadPeoplePage);
    }),
  );
}

function renderLibraryPeople(people: LibraryPerson[]): void {
  const table = h(
    'table',
    { class: 'stack' },
    h('thead', {}, h('tr', {}, h('th', {}, 'person'), h('th', {}, 'faces'), h('th', {}, 'examples'), can('people') ? h('th', {}, '') : null)),
    h(
      'tbody',
      {},
      ...people.map((p) =>
        h(
          'tr',
          { dataset: { person: p.name, hidden: String(p.hidden === true), indexed: String(indexed(p)) } },
          h('td', {}, coverPicture(p), ' ', h('a', { href: `#person/${encodeURIComponent(p.name)}` }, p.name), p.hidden ? h('span', { class: 'muted' }, ' (hidden)') : null),
          h('td', { 'data-label': 'faces', dataset: { count: 'faces' } }, fmt(p.faceCount)),
          h('td', { 'data-label': 'examples' }, fmt(p.examples ?? null)),
          can('people') ? h('td', {}, personActions(p)) : null,
        ),
      ),
    ),
  );
  const options = () => people.map((p) => h('option', { value: p.name }, p.name));
  const from = h('select', { name: 'from', 'aria-label': 'merge this person' }, ...options());
  const into = h('select', { name: 'into', 'aria-label': 'into this person' }, ...options());
  if (people.length > 1) into.selectedIndex = 1;
  const merge = h('form', { id: 'merge-people' }, 'Merge ', from, ' into ', into, ' ', h('button', { type: 'submit' }, 'Merge'));
  merge.addEventListener('submit', (event) => {
    event.preventDefault();
    const [a, b] = [from.value, into.value];
    const faces = people.find((p) => p.name === a)?.faceCount ?? 0;
    if (!confirm(`Merge ${a} into ${b}? ${a}'s ${plural(faces, 'face')} become ${b}'s and ${a} goes. Undo is under Recent changes.`)) {
      notice('Nothing changed: not merged', true);
      return;
    }
    act(() => sendJson<{ faces: number }>('POST', `${personPath(a)}/merge`, { into: b }), (r) => `${a} merged into ${b}: ${plural(r.faces, 'face')}`, loadPeoplePage);
  });
  byId('library-people').replaceChildren(...(people.length ? [table, people.length > 1 && can('people') ? merge : ''] : [h('p', { class: 'muted' }, 'nobody yet: name a cluster above, or enroll people')]));
}

function renderAudit(entries: PeopleAuditEntry[]): void {
  const items = entries.map((e) =>
    h(
      'li',
      { dataset: { audit: e.id, action: e.action, undone: String(e.undoneAt !== null) } },
      h('span', { class: e.undoneAt ? 'undone' : '' }, e.summary),
      ' ',
      h('span', { class: 'muted' }, `${new Date(e.at).toLocaleString()} by ${e.actor}${e.undoneAt ? ` · undone by ${e.undoneBy ?? '?'}` : ''}`),
      ' ',
      e.undoable && can('people')
        ? actionButton('undo', 'Undo', () => act(() => sendJson<{ undone: PeopleAuditEntry }>('POST', '/v1/people-audit/undo', { id: e.id }), (r) => `Undone: ${r.undone.summary}`, loadPeoplePage))
        : null,
    ),
  );
  byId('people-audit').replaceChildren(items.length ? h('ul', {}, ...items) : h('p', { class: 'muted' }, 'no changes yet'));
}

/** Every person, through all pages of /v1/people (a page holds up to 1,000). */
async function allPeople(hidden: boolean): Promise<People> {
  const first = await api<People>(`/v1/people?limit=1000${hidden ? '&hidden=true' : ''}`);
  const people = [...first.people];
  for (let cursor = first.nextCursor; cursor !== null; ) {
    const page = await api<People>(`/v1/people?limit=1000${hidden ? '&hidden=true' : ''}&cursor=${encodeURIComponent(cursor)}`);
    people.push(...page.people);
    cursor = page.nextCursor;
  }
  return { ...first, people, nextCursor: null };
}

async function loadPeoplePage(): Promise<void> {
  const showHidden = byId<HTMLInputElement>('show-hidden').checked;
  const [clusters, people, all, audit] = await Promise.all([
    api<{ clusters: Cluster[] }>('/v1/clusters'),
    allPeople(showHidden) as Promise<{ people: LibraryPerson[] }>,
    allPeople(true) as Promise<{ people: LibraryPerson[] }>,
    api<{ entries: PeopleAuditEntry[] }>('/v1/people-audit?limit=10'),
  ]);
  knownNames = new Set(all.people.map((p) => p.name));
  renderClusters(clusters.clusters);
  renderLibraryPeople(people.people);
  renderAudit(audit.entries);
  document.body.dataset.peopleLoaded = 'true';
}

let shownPerson: string | null = null;
let personCursor: string | null = null;

function personFaceCard(name: string, f: PersonFaces['faces'][number]): HTMLElement {
  const how = f.how === 'auto' ? `automatic match${f.distance === null ? '' : ` ${f.distance.toFixed(2)}`}` : f.how === 'hand' ? 'named by hand' : 'example';
  const reload = () => loadPerson(name);
  return h(
    'div',
    { class: 'card', dataset: { image: f.imageId, face: String(f.face), how: f.how ?? 'none', distance: f.distance === null ? '' : String(f.distance) } },
    boxedPhoto(f.imageId, f.source, f.box),
    h('div', {}, h('strong', {}, f.source), ' ', h('span', { class: 'muted' }, how)),
    h('div', { class: 'crops' }, chip(f.imageId, f.face, '')),
    faceActions(f.imageId, f.face, reload, 'Not this person'),
    can('people') &&
      actionButton('cover', 'Use as picture', () => act(() => sendJson('PUT', `${personPath(name)}/cover`, { imageId: f.imageId, face: f.face }), () => `${name}'s picture changed`, reload)),
  );
}

async function loadPersonFaces(name: string, more: boolean): Promise<void> {
  const page = await api<PersonFaces>(`${personPath(name)}/faces?order=confidence&limit=${itemsPerPage}${more && personCursor ? `&cursor=${personCursor}` : ''}`);
  if (shownPerson !== name) return;
  const box = byId('person-photos');
  const cards = page.faces.map((f) => personFaceCard(name, f));
  if (more) box.append(...cards);
  else box.replaceChildren(...(cards.length ? cards : [h('p', { class: 'muted' }, 'no faces')]));
  personCursor = page.nextCursor;
  byId('person-more').hidden = page.nextCursor === null;
  document.body.dataset.personLoaded = name;
}

async function loadPerson(name: string): Promise<void> {
  const p = await api<LibraryPerson>(personPath(name));
  if (shownPerson !== name) return;
  byId('person-title').replaceChildren(coverPicture(p) ?? '', ' ', `${p.name} · ${plural(p.faceCount, 'face')}`);
  await loadPersonFaces(name, false);
}


// ---- polling ----

const filter = () => {
  const kind = byId<HTMLSelectElement>('batch-kind').value;
  const limit = byId<HTMLSelectElement>('batch-limit').value;
  return `kind=${encodeURIComponent(kind)}&limit=${encodeURIComponent(limit)}`;
};

async function refresh(): Promise<void> {
  const o = await api<Overview>(`/dashboard/api/overview?${filter()}`);
  renderAlerts(o.alerts);
  renderQueues(o.queues);
  renderBatches(o.batches);
  byId('updated').textContent = `updated ${new Date(o.generatedAt).toLocaleTimeString()}${o.gallery ? ` · gallery v${o.gallery.version}` : ''}`;
  document.body.dataset.loaded = 'true';
}

async function loadFailures(): Promise<void> {
  renderFailures(await api<QueueFailures[]>('/dashboard/api/failures'));
}

async function loadSlow(): Promise<void> {
  const [recent, people] = await Promise.all([api<{ results: RecentResult[] }>('/dashboard/api/recent'), allPeople(false)]);
  renderRecent(recent.results);
  renderPeople(people);
  document.body.dataset.pictures = 'true';
  if (shownBatch !== null) await loadItems(shownBatch, Math.max(itemsShown, itemsPerPage)).catch((err: unknown) => console.warn(err));
}

function every(fn: () => Promise<void>, period: number): void {
  const run = () => {
    fn()
      .catch((err: unknown) => console.warn(err))
      .finally(() => window.setTimeout(run, period));
  };
  run();
}

async function loadSession(): Promise<void> {
  session = await api<DashboardSession>('/dashboard/api/session');
  document.body.dataset.scopes = session.scopes.join(' ');
}

function start(): void {
  byId('show-hidden').addEventListener('change', () => loadPeoplePage().catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), false)));
  for (const id of ['batch-kind', 'batch-limit']) byId(id).addEventListener('change', () => act(refresh, () => 'Batch list updated', async () => undefined));
  byId('person-more').addEventListener('click', () => {
    if (shownPerson !== null) loadPersonFaces(shownPerson, true).catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), false));
  });
  byId('batch-more').addEventListener('click', () => {
    if (shownBatch !== null) loadItems(shownBatch, itemsShown + itemsPerPage).catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), false));
  });
  window.addEventListener('hashchange', showPage);
  showPage();
  every(refresh, pollMs);
  every(refreshBatch, pollMs);
  every(loadFailures, slowPollMs);
  every(loadSlow, slowPollMs);
}

loadSession()
  .catch((err: unknown) => notice(`Could not read what this sign-in may do: ${err instanceof Error ? err.message : String(err)}`, false))
  .finally(start);

export {};
