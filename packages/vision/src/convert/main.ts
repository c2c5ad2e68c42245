#!/usr/bin/env node
/**
 * Build step: `node packages/vision/dist/convert/main.js [--force] [--out DIR]`.
 * Writes packages/vision/models/*.onnx and manifest.json from @vladmandic/face-api's weights;
 * does nothing when they are already current.
 */
import { parseArgs } from 'node:util';
import { convertModels } from './convert.js';

const { values } = parseArgs({
  options: {
    force: { type: 'boolean', default: false },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const started = performance.now();
try {
  const result = await convertModels({
    force: values.force,
    ...(values.out ? { outDir: values.out } : {}),
    log: values.quiet ? () => {} : (line) => console.log(`[convert] ${line}`),
  });
  if (!values.quiet && !result.skipped) {
    console.log(`[convert] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} catch (err) {
  console.error(`[convert] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
