import { stageNames, type StageName } from '@facepipe/core';
import { UsageError } from './command.js';

/** `--detect-workers`, `--embed-workers`, `--classify-workers` (processes per pool). */
export const workerCountOptions = {
  'detect-workers': { type: 'string', default: '1' },
  'embed-workers': { type: 'string', default: '1' },
  'classify-workers': { type: 'string', default: '1' },
} as const;

export const workerCountUsage = '  --detect-workers <n>  detect processes (default 1); likewise --embed-workers, --classify-workers';

export function parseWorkerCounts(values: Partial<Record<`${StageName}-workers`, string>>): Record<StageName, number> {
  return Object.fromEntries(
    stageNames.map((s) => {
      const n = Number(values[`${s}-workers`] ?? '1');
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--${s}-workers must be an integer from 1 to 64`);
      return [s, n];
    }),
  ) as Record<StageName, number>;
}
