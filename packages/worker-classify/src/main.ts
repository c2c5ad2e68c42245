#!/usr/bin/env node
import { runWorkerProcess } from '@facepipe/core';
import { startClassifyStage } from './classify-worker.js';

await runWorkerProcess('worker-classify', (ctx) => startClassifyStage(ctx));
