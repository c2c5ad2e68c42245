#!/usr/bin/env node
import { runWorkerProcess } from '@facepipe/core';
import { configuredVersions, createEmbedEngine } from '@facepipe/vision';
import { startEmbedStage } from './embed-worker.js';

await runWorkerProcess('worker-embed', async (ctx) => startEmbedStage(ctx, await createEmbedEngine(ctx.config)), { versions: configuredVersions });
