#!/usr/bin/env node
import { runWorkerProcess } from '@facepipe/core';
import { configuredVersions, createDetectEngine } from '@facepipe/vision';
import { startDetectStage } from './detect-worker.js';

await runWorkerProcess('worker-detect', async (ctx) => startDetectStage(ctx, await createDetectEngine(ctx.config)), { versions: configuredVersions });
