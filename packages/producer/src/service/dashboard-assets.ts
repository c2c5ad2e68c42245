/**
 * The dashboard: one HTML page, one script, one stylesheet, served as they are (no build step).
 * The script polls the JSON endpoints under /dashboard/api and renders with DOM calls only
 * (textContent, never innerHTML with data), since file names and sources come from uploaders.
 */

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facepipe dashboard</title>
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header>
  <h1>facepipe</h1>
  <nav>
    <a href="/dashboard/jobs/">Jobs (bull-board)</a>
    <a href="/openapi.json">API (OpenAPI)</a>
    <a href="/metrics">Metrics</a>
    <form method="post" action="/dashboard/logout" id="logout"><button type="submit">Sign out</button></form>
  </nav>
  <span id="updated" class="muted">loading…</span>
</header>
<main>
  <section>
    <h2>Queues</h2>
    <table id="queues">
      <thead><tr>
        <th>queue</th><th>waiting</th><th>active</th><th>delayed</th><th>completed</th><th>failed</th><th>workers</th>
        <th>completed per minute (15 min)</th><th>wait p50 / p95</th><th>run p50 / p95 / p99</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Batches</h2>
    <table id="batches">
      <thead><tr><th>batch</th><th>source</th><th>progress</th><th>done</th><th>failed</th><th>faces</th><th>rate</th><th>time left</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Failures by error code</h2>
    <div id="failures"><p class="muted">loading…</p></div>
  </section>
  <section>
    <h2>Recent results</h2>
    <div id="recent" class="cards"></div>
  </section>
  <section>
    <h2>Gallery</h2>
    <div id="people" class="cards"></div>
  </section>
</main>
</body>
</html>
`;

export const loginHtml = (message: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>facepipe: sign in</title><link rel="stylesheet" href="/dashboard/app.css"></head>
<body class="login">
<form method="post" action="/dashboard/login">
  <h1>facepipe</h1>
  <p>${message}</p>
  <label>API token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
`;

export const dashboardCss = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: #f5f6f8; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d232a; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header nav { display: flex; gap: 1rem; align-items: center; flex: 1; }
header a { color: #9cd1ff; }
header form { margin: 0; }
main { padding: 0 1.2rem 2rem; }
section { background: #fff; border-radius: 6px; padding: .4rem 1rem 1rem; margin-top: 1rem; box-shadow: 0 1px 2px #0001; }
h2 { font-size: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7eb; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #6b7280; }
.paused { color: #b45309; font-weight: 600; }
progress { width: 12rem; }
button { cursor: pointer; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { border: 1px solid #e4e7eb; border-radius: 6px; padding: .5rem; max-width: 22rem; }
.photo { position: relative; display: inline-block; max-width: 21rem; }
.photo img { display: block; max-width: 21rem; height: auto; }
.photo svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.photo rect { fill: none; stroke: #22c55e; stroke-width: 3; vector-effect: non-scaling-stroke; }
.photo rect.unknown { stroke: #f59e0b; }
.photo text { fill: #fff; paint-order: stroke; stroke: #000; font-weight: 600; }
.crops { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .4rem; }
.crop { display: flex; flex-direction: column; align-items: center; font-size: 12px; }
.chip { width: 75px; height: 75px; background-size: 75px auto; background-repeat: no-repeat; border-radius: 4px; }
.failure { margin: .3rem 0 .8rem; }
.failure code { font-weight: 600; }
.spark { vertical-align: middle; }
.spark polyline { fill: none; stroke: #2563eb; stroke-width: 1.5; }
body.login { display: grid; place-items: center; min-height: 100vh; }
body.login form { background: #fff; padding: 2rem; border-radius: 8px; display: grid; gap: 1rem; box-shadow: 0 1px 3px #0002; }
`;

export const dashboardJs = `
'use strict';
const POLL_MS = 2000;
const SLOW_POLL_MS = 8000;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const svgNs = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const ms = (n) => (n === null || n === undefined ? '–' : n < 1000 ? n + ' ms' : (n / 1000).toFixed(1) + ' s');
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return Math.round(seconds) + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + Math.round(seconds % 60) + ' s';
  return Math.floor(seconds / 3600) + ' h ' + Math.round((seconds % 3600) / 60) + ' min';
}

async function api(path, options) {
  const res = await fetch(path, Object.assign({ credentials: 'same-origin', headers: { accept: 'application/json' } }, options || {}));
  if (res.status === 401) { location.href = '/dashboard'; throw new Error('signed out'); }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error && body.error.message) || res.statusText);
  return body;
}
const post = (path) => api(path, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: '{}' });

function sparkline(values) {
  const w = 120, hgt = 24, max = Math.max(1, ...values);
  const pts = values.map((v, i) => (i * w / Math.max(values.length - 1, 1)).toFixed(1) + ',' + (hgt - (v / max) * (hgt - 2) - 1).toFixed(1)).join(' ');
  return s('svg', { class: 'spark', width: w, height: hgt, viewBox: '0 0 ' + w + ' ' + hgt }, s('polyline', { points: pts }));
}

function renderQueues(queues) {
  const body = document.querySelector('#queues tbody');
  body.replaceChildren(...queues.map((q) => {
    const perMin = q.completedPerMinute;
    const average = perMin.reduce((a, b) => a + b, 0) / perMin.length;
    const cell = (state) => h('td', { class: 'num', dataset: { queue: q.name, count: state } }, fmt(state === 'waiting' ? q.counts.waiting + q.counts.prioritized : q.counts[state]));
    return h('tr', { dataset: { queue: q.name } },
      h('td', {}, q.name, q.paused ? h('span', { class: 'paused' }, ' (paused)') : null),
      cell('waiting'), cell('active'), cell('delayed'), cell('completed'), cell('failed'),
      h('td', { class: 'num', dataset: { queue: q.name, count: 'workers' } }, fmt(q.workers)),
      h('td', { title: 'completed per minute, oldest to this minute' }, sparkline(perMin), ' ', h('span', { dataset: { queue: q.name, rate: 'current' } }, fmt(perMin[perMin.length - 1])), ' this min, ', average.toFixed(1), '/min avg'),
      h('td', {}, ms(q.latency.waitMs.p50), ' / ', ms(q.latency.waitMs.p95)),
      h('td', {}, ms(q.latency.processMs.p50), ' / ', ms(q.latency.processMs.p95), ' / ', ms(q.latency.processMs.p99)),
      h('td', {}, h('button', { type: 'button', dataset: { action: q.paused ? 'resume' : 'pause', queue: q.name }, onclick: () => post('/dashboard/api/queues/' + q.name + '/' + (q.paused ? 'resume' : 'pause')).then(refresh, alert) }, q.paused ? 'Resume' : 'Pause')),
    );
  }));
}

function renderBatches(batches) {
  const body = document.querySelector('#batches tbody');
  if (batches.length === 0) { body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'no batches yet'))); return; }
  body.replaceChildren(...batches.map((b) => h('tr', { dataset: { batch: b.id } },
    h('td', {}, b.id, ' ', h('span', { class: 'muted' }, b.purpose + (b.open ? ', open' : ''))),
    h('td', {}, b.source),
    h('td', {}, h('progress', { max: 1, value: b.progress }), ' ', Math.round(b.progress * 100) + '% of ' + fmt(b.total)),
    h('td', { class: 'num' }, fmt(b.done)), h('td', { class: 'num' }, fmt(b.failed)), h('td', { class: 'num' }, fmt(b.faces)),
    h('td', {}, b.ratePerSecond.toFixed(1) + '/s'),
    h('td', {}, b.finishedAt ? 'finished' : duration(b.etaSeconds)),
  )));
}

function renderFailures(queues) {
  const box = document.getElementById('failures');
  const blocks = queues.filter((q) => q.groups.length > 0).map((q) => h('div', { dataset: { queue: q.queue } },
    h('h3', {}, q.queue + ': ' + fmt(q.failed) + ' failed'),
    ...q.groups.map((g) => h('div', { class: 'failure', dataset: { code: g.code } },
      h('code', {}, g.code), ' × ', h('span', { dataset: { count: 'failures' } }, fmt(g.count)), ' ',
      h('button', { type: 'button', onclick: () => confirm('Retry all ' + g.count + ' ' + g.code + ' jobs of ' + q.queue + '?') && post('/dashboard/api/queues/' + q.queue + '/failures/' + g.code + '/retry').then(loadFailures, alert) }, 'Retry all'), ' ',
      h('button', { type: 'button', onclick: () => confirm('Discard all ' + g.count + ' ' + g.code + ' jobs of ' + q.queue + '?') && post('/dashboard/api/queues/' + q.queue + '/failures/' + g.code + '/discard').then(loadFailures, alert) }, 'Discard all'),
      g.sample ? h('div', { class: 'muted' }, 'e.g. job ', h('a', { href: '/dashboard/jobs/queue/' + q.queue + '/' + encodeURIComponent(g.sample.id) }, g.sample.id), ' ',
        g.sample.data.source || '', ': ', g.sample.failedReason) : null,
    )),
  ));
  box.replaceChildren(...(blocks.length ? blocks : [h('p', { class: 'muted' }, 'no failed jobs')]));
}

function chip(imageId, cropIndex, label) {
  return h('div', { class: 'crop' },
    h('div', { class: 'chip', style: 'background-image:url(/v1/images/' + imageId + '/crops);background-position:0 -' + cropIndex * 75 + 'px' }),
    label);
}

function renderRecent(results) {
  const box = document.getElementById('recent');
  if (results.length === 0) { box.replaceChildren(h('p', { class: 'muted' }, 'no results yet')); return; }
  box.replaceChildren(...results.map((r) => {
    const overlay = s('svg', { viewBox: '0 0 ' + (r.width || 1) + ' ' + (r.height || 1), preserveAspectRatio: 'none' });
    // Labels in image pixels, sized so they read at the displayed width (about 21rem).
    const size = Math.max(10, Math.round((r.width || 336) / 22));
    for (const f of r.faces) {
      const [x, y, w, hh] = f.box;
      overlay.append(s('rect', { x, y, width: w, height: hh, class: f.name ? 'known' : 'unknown' }));
      overlay.append(s('text', { x, y: y > size * 1.2 ? y - size * 0.3 : y + hh + size, 'font-size': size, 'stroke-width': Math.max(1, size / 7) }, f.name || 'unknown'));
    }
    return h('div', { class: 'card', dataset: { image: r.imageId } },
      h('div', { class: 'photo' }, h('img', { src: '/v1/images/' + r.imageId + '/original', alt: r.source, loading: 'lazy' }), overlay),
      h('div', {}, h('strong', {}, r.source), ' ', h('span', { class: 'muted' }, r.faceCount + ' face' + (r.faceCount === 1 ? '' : 's'))),
      h('div', { class: 'crops' }, ...r.faces.map((f) => chip(r.imageId, f.cropIndex, (f.name || 'unknown') + (f.distance === null ? '' : ' ' + f.distance.toFixed(2))))),
    );
  }));
}

function renderPeople(data) {
  const box = document.getElementById('people');
  if (data.people.length === 0) { box.replaceChildren(h('p', { class: 'muted' }, 'nobody enrolled yet')); return; }
  box.replaceChildren(...data.people.map((p) => h('div', { class: 'card', dataset: { person: p.name } },
    h('strong', {}, p.name), ' ', h('span', { class: 'muted' }, p.faces.length + ' enrolled'),
    h('div', { class: 'crops' }, ...p.faces.map((f) => chip(f.imageId, f.cropIndex, ''))),
  )));
}

async function refresh() {
  const o = await api('/dashboard/api/overview');
  renderQueues(o.queues);
  renderBatches(o.batches);
  document.getElementById('updated').textContent = 'updated ' + new Date(o.generatedAt).toLocaleTimeString() + (o.gallery ? ' · gallery v' + o.gallery.version : '');
  document.body.dataset.loaded = 'true';
}
async function loadFailures() { renderFailures(await api('/dashboard/api/failures')); }
async function loadSlow() {
  const [recent, people] = await Promise.all([api('/dashboard/api/recent'), api('/v1/people')]);
  renderRecent(recent.results);
  renderPeople(people);
  document.body.dataset.pictures = 'true';
}
function every(fn, period) {
  const run = () => fn().catch((e) => console.warn(e)).finally(() => setTimeout(run, period));
  run();
}
every(refresh, POLL_MS);
every(loadFailures, SLOW_POLL_MS);
every(loadSlow, SLOW_POLL_MS);
`;
