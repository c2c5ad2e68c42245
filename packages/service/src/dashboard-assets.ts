import { faviconLinks } from './favicon.js';

/**
 * The dashboard's page and stylesheet. Its script is service/dashboard/app.ts (compiled by the
 * build); it polls the JSON endpoints under /dashboard/api and renders with DOM calls only
 * (textContent, never innerHTML with data), since file names and sources come from uploaders.
 */

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facepipe dashboard</title>
${faviconLinks}
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" type="module"></script>
</head>
<body>
<header>
  <h1><a href="#">facepipe</a></h1>
  <nav>
    <a href="#people" id="people-link">People</a>
    <a href="/dashboard/jobs/">Jobs (bull-board)</a>
    <a href="/openapi.json">API (OpenAPI)</a>
    <a href="/metrics">Metrics</a>
    <form method="post" action="/dashboard/logout" id="logout"><button type="submit">Sign out</button></form>
  </nav>
  <span id="updated" class="muted">loading…</span>
</header>
<div id="notice" role="status" aria-live="polite" hidden></div>
<div id="alerts" aria-live="polite"></div>
<main id="overview">
  <section>
    <h2>Queues</h2>
    <div class="scroll">
    <table id="queues">
      <thead><tr>
        <th>queue</th><th>waiting</th><th>active</th><th>delayed</th><th>completed</th><th>failed</th><th>workers</th>
        <th>completed per minute (15 min)</th><th>wait p50 / p95</th><th>run p50 / p95 / p99</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
    </div>
  </section>
  <section>
    <h2>Batches</h2>
    <div class="filters" role="group" aria-label="batch kind">
      <label>kind <select id="batch-kind">
        <option value="all">all</option><option value="ingest">ingest</option><option value="upload">upload</option>
        <option value="enroll">enroll</option><option value="reindex">re-index</option>
      </select></label>
      <label>show <select id="batch-limit"><option>25</option><option selected>50</option><option>100</option><option>250</option></select></label>
    </div>
    <div class="scroll">
    <table id="batches" class="stack">
      <thead><tr><th>batch</th><th>source</th><th>progress</th><th>done</th><th>failed</th><th>faces</th><th>rate (last min)</th><th>time left</th></tr></thead>
      <tbody></tbody>
    </table>
    </div>
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
<main id="batch-page" hidden>
  <p><a href="#">← all batches</a></p>
  <section>
    <h2 id="batch-title">Batch</h2>
    <div id="batch-summary"></div>
  </section>
  <section>
    <h2>Failures by error code</h2>
    <div id="batch-failures"></div>
  </section>
  <section>
    <h2>Results</h2>
    <div id="batch-items" class="cards"></div>
    <p><button type="button" id="batch-more" hidden>Show more</button></p>
  </section>
</main>
<main id="people-page" hidden>
  <p><a href="#">← overview</a></p>
  <section>
    <h2>Unnamed clusters</h2>
    <p class="muted">Groups of similar faces nobody has named yet, largest first: name one and its faces become that person (matching faces across the library are named at once).</p>
    <div id="clusters"><p class="muted">loading…</p></div>
  </section>
  <section>
    <h2>People</h2>
    <p><label><input type="checkbox" id="show-hidden"> show hidden people</label></p>
    <div id="library-people"><p class="muted">loading…</p></div>
  </section>
  <section>
    <h2>Recent changes</h2>
    <p class="muted">Who changed which person, newest first. Undo takes back the newest change not undone yet; again, the one before it.</p>
    <div id="people-audit"><p class="muted">loading…</p></div>
  </section>
</main>
<main id="person-page" hidden>
  <p><a href="#people">← people</a></p>
  <section>
    <h2 id="person-title">Person</h2>
    <p class="muted">Enrolled and hand-named faces first, then automatic matches, nearest first: the weakest (most likely wrong) last.</p>
    <div id="person-photos" class="cards"></div>
    <p><button type="button" id="person-more" hidden>Show more</button></p>
  </section>
</main>
</body>
</html>
`;

export const loginHtml = (message: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>facepipe: sign in</title>${faviconLinks}<link rel="stylesheet" href="/dashboard/app.css"></head>
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
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; }
header { display: flex; flex-wrap: wrap; gap: .4rem 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d232a; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header h1 a { color: #fff; text-decoration: none; }
header nav { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; flex: 1; }
header a { color: #9cd1ff; }
header form { margin: 0; }
main { padding: 0 1.2rem 2rem; }
section { background: #fff; border-radius: 6px; padding: .4rem 1rem 1rem; margin-top: 1rem; box-shadow: 0 1px 2px #0001; min-width: 0; }
h2 { font-size: 1rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7eb; white-space: nowrap; }
td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 8rem; max-width: 28rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.clickable { cursor: pointer; }
tr.clickable:hover, tr.clickable:focus { background: #eef5ff; outline: none; }
tr.group td { background: #fafafa; }
.muted { color: #6b7280; }
.paused { color: #b45309; font-weight: 600; }
.state { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: 12px; background: #e5e7eb; }
.state-paused, .state-waiting { background: #fde68a; }
.state-stalled { background: #fecaca; }
.state-running { background: #dbeafe; }
.state-finished { background: #dcfce7; }
progress { width: 10rem; max-width: 100%; }
button { cursor: pointer; font: inherit; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: .5rem; }
#alerts { padding: 0 1.2rem; }
.alert { margin-top: .8rem; padding: .6rem .9rem; border-radius: 6px; border-left: 5px solid; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
.alert-error { background: #fef2f2; border-color: #dc2626; }
.alert-warning { background: #fffbeb; border-color: #d97706; }
#notice { position: sticky; top: 0; z-index: 5; margin: .8rem 1.2rem 0; padding: .6rem .9rem; border-radius: 6px; font-weight: 600; }
#notice.ok { background: #dcfce7; color: #14532d; }
#notice.error { background: #fee2e2; color: #7f1d1d; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { border: 1px solid #e4e7eb; border-radius: 6px; padding: .5rem; max-width: 22rem; min-width: 0; flex: 0 1 22rem; }
.card.failed { border-color: #fca5a5; background: #fff7f7; }
.photo { position: relative; display: inline-block; max-width: 100%; }
.photo img { display: block; max-width: 100%; height: auto; }
.photo svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.photo rect { fill: none; stroke: #22c55e; stroke-width: 3; vector-effect: non-scaling-stroke; }
.photo rect.unknown { stroke: #f59e0b; }
.photo rect.hand { stroke: #3b82f6; stroke-dasharray: 6 3; }
.photo rect.rejected { stroke: #9ca3af; stroke-width: 2; stroke-dasharray: 3 3; }
.photo text.rejected { fill: #e5e7eb; font-weight: 400; }
.set-aside { color: #6b7280; font-size: 12px; }
.set-aside code { background: #f3f4f6; border-radius: 3px; padding: 0 .25rem; }
.photo text { fill: #fff; paint-order: stroke; stroke: #000; font-weight: 600; }
.crops { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .4rem; }
.crop { display: flex; flex-direction: column; align-items: center; font-size: 12px; max-width: 8rem; text-align: center; }
.chip { width: 75px; height: 75px; background-size: 75px auto; background-repeat: no-repeat; border-radius: 4px; }
.naming-hand { color: #1d4ed8; font-weight: 600; }
.naming-hand::before { content: "✎ "; }
.naming-unknown { color: #b45309; }
.failure { margin: .3rem 0 .8rem; }
.failure code { font-weight: 600; }
.cluster-row { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .5rem 0; border-bottom: 1px solid #e4e7eb; }
.cluster-row .crops { margin-top: 0; }
.name-preview { flex: 1 1 100%; display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; padding: .5rem; background: #f5f7fa; border: 1px solid #e4e7eb; border-radius: 4px; }
.name-preview p { flex: 1 1 100%; margin: 0; }
.name-preview .crops { flex: 1 1 100%; }
.cluster-faces { flex: 1 1 100%; }
.cluster-face { display: flex; flex-direction: column; align-items: center; max-width: 9rem; }
.face-actions, .person-actions { display: flex; flex-wrap: wrap; gap: .3rem; margin-top: .3rem; }
.face-actions button, .person-actions button, .cluster-row button { font: inherit; font-size: 13px; }
.cover { width: 48px; height: 48px; border-radius: 50%; background-size: 48px auto; background-repeat: no-repeat; display: inline-block; vertical-align: middle; }
#people-audit li { margin: .2rem 0; }
#people-audit .undone { text-decoration: line-through; color: #6b7280; }
.photo rect.subject { stroke: #3b82f6; stroke-width: 4; }
.cluster-row form, #merge-people { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: 0; }
#merge-people { margin-top: .8rem; }
.cluster-row input { font: inherit; padding: .2rem .4rem; min-width: 0; width: 12rem; max-width: 100%; }
#merge-people select { font: inherit; min-width: 0; max-width: 100%; }
.tag { font-size: 12px; padding: 0 .35rem; border-radius: 3px; background: #e5e7eb; }
.spark { vertical-align: middle; }
.spark polyline { fill: none; stroke: #2563eb; stroke-width: 1.5; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: #6b7280; }
dl.facts dd { margin: 0; }
body.login { display: grid; place-items: center; min-height: 100vh; padding: 1rem; }
body.login form { background: #fff; padding: 2rem; border-radius: 8px; display: grid; gap: 1rem; box-shadow: 0 1px 3px #0002; width: min(100%, 24rem); font-size: 16px; }
body.login label { display: grid; gap: .3rem; }
body.login input, body.login button { font-size: 16px; padding: .6rem; width: 100%; }
@media (max-width: 640px) {
  header, main, #alerts { padding-left: .6rem; padding-right: .6rem; }
  section { padding: .3rem .6rem .8rem; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { border-bottom: 1px solid #d1d5db; padding: .4rem 0; }
  table.stack td { border: 0; padding: .1rem 0; white-space: normal; max-width: none; }
  table.stack td.num { text-align: left; }
  header nav { order: 3; flex-basis: 100%; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: #6b7280; }
  .card { flex-basis: 100%; }
  /* Tappable on a phone, and 16 px text so mobile browsers do not zoom into a focused field. */
  .cluster-row input, .cluster-row button, #merge-people select, #merge-people button { font-size: 16px; min-height: 2.5rem; }
  .cluster-row form { flex: 1 1 100%; }
  .cluster-row input { flex: 1 1 8rem; width: auto; }
  #library-people td a, main > p:first-child > a { display: inline-block; padding: .3rem 0; }
  .face-actions button, .person-actions button, .cluster-row button, #people-audit button { font-size: 16px; min-height: 2.5rem; }
}
`;
