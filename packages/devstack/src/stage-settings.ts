import type { StageName } from '@facepipe/core';

/** Settings a stage's own environment may already give; those are never overridden. */
const tunable = ['FACEPIPE_INFERENCE_THREADS', 'FACEPIPE_DETECT_CONCURRENCY'] as const;

/**
 * How `facepipe run` spreads one machine over its pools when the environment does not say:
 * detection is the heavy stage, so the detect process gets an inference thread per core (up to
 * 4) and twice as many jobs in flight, so decoding and S3 overlap inference; embedding is
 * batched and light on CPU, classification lighter still.
 */
export function localStageSettings(cpus: number, env: Record<string, string | undefined> = process.env): Record<StageName, Record<string, string>> {
  const threads = Math.max(1, Math.min(4, cpus));
  const detect: Record<string, string> = { FACEPIPE_INFERENCE_THREADS: String(threads), FACEPIPE_DETECT_CONCURRENCY: String(threads * 2) };
  for (const key of tunable) if (env[key]) delete detect[key];
  return { detect, embed: {}, classify: {} };
}
