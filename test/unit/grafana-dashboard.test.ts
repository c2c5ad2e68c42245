import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FacepipeMetrics } from '@facepipe/core';
import { ServiceMetrics } from '@facepipe/service';

const path = fileURLToPath(new URL('../../deploy/grafana/facepipe-dashboard.json', import.meta.url));

test('the Grafana dashboard charts only metrics facepipe exports', async () => {
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
  const metrics = new FacepipeMetrics('test');
  metrics.enableProcessMetrics();
  new ServiceMetrics(metrics.registry);
  const exported = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    exported.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${m.name}${suffix}`);
  }
  const charted = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(charted.length >= 15);
  for (const { panel, expr } of charted) {
    const names = expr.match(/\b(facepipe|process|nodejs)_[a-z0-9_]+/g) ?? [];
    assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
    for (const name of names) assert.ok(exported.has(name), `${panel}: ${name} is not exported`);
  }
  for (const needed of ['facepipe_queue_jobs', 'facepipe_jobs_failed_total', 'facepipe_stage_duration_seconds_bucket', 'facepipe_inference_duration_seconds_bucket', 'facepipe_embed_batch_size_bucket', 'facepipe_images_processed_total', 'facepipe_faces_processed_total']) {
    assert.ok(charted.some((c) => c.expr.includes(needed)), `nothing charts ${needed}`);
  }
});
