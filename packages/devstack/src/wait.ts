import { stageNames, type BatchInfo, type StageName } from '@facepipe/core';
import type { IngestRequest, IngestResult, Producer } from '@facepipe/producer';
import type { WorkerProcesses } from './worker-processes.js';

/** Thrown when a worker process of the local stack exited on its own; carries the end of its log. */
export class WorkerCrashedError extends Error {
  constructor(
    readonly stage: StageName,
    readonly exitCode: number | null,
    readonly logTail: string,
  ) {
    super(`worker-${stage} exited (code ${exitCode}):\n${logTail}`);
    this.name = 'WorkerCrashedError';
  }
}

/** Throws {@link WorkerCrashedError} when one of `workers` has exited. */
export function checkWorkers(workers: WorkerProcesses | undefined): void {
  const crashed = workers?.crashed();
  if (crashed) throw new WorkerCrashedError(crashed.stage, crashed.code, crashed.logTail);
}

/**
 * Resolves once every stage queue has at least one worker registered in Redis; fails as soon as
 * a local worker process exits (with its log tail) or after `timeoutMs`.
 */
export async function waitForWorkers(
  producer: Producer,
  workers?: WorkerProcesses,
  options: { stages?: readonly StageName[]; timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const stages = options.stages ?? stageNames;
  for (;;) {
    checkWorkers(workers);
    const counts = await Promise.all(stages.map((s) => producer.ctx.queues.byName(s).getWorkersCount()));
    if (counts.every((c) => c > 0)) return;
    if (Date.now() > deadline) {
      const missing = stages.filter((_, i) => counts[i] === 0);
      throw new Error(`workers did not start within ${timeoutMs / 1000} s (no ${missing.join(', ')} worker); see their logs`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
  }
}

/**
 * Ingests one input as a batch and waits until every item is done or failed, checking the local
 * worker processes (when given) on every poll so a crash ends the wait with its log.
 */
export async function ingestAndWait(
  producer: Producer,
  request: IngestRequest,
  options: { workers?: WorkerProcesses; onProgress?: (batch: BatchInfo) => void; onBatchId?: (batchId: string) => void; onIngested?: (result: IngestResult) => void } = {},
): Promise<BatchInfo> {
  const ingested = await producer.ingest(request);
  const { batchId } = ingested;
  options.onBatchId?.(batchId);
  options.onIngested?.(ingested);
  return producer.waitForBatch(batchId, (batch) => {
    checkWorkers(options.workers);
    options.onProgress?.(batch);
  });
}
