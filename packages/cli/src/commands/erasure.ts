import { userInfo } from 'node:os';
import { FacepipeError } from '@facepipe/core';
import { openLibrary } from '@facepipe/face-index';
import type { Eraser, ErasureOutcome, ErasureRecord } from '@facepipe/producer';
import { deploymentEnv, withProducer } from './deployment.js';

/** Who asked, for the erasure log: the user running the command. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * Runs `fn` with an Eraser on the deployment of `dataDir` (or the environment's): its storage and
 * Redis, and its face index when it has one (`needIndex`: fail without one).
 */
export async function withEraser<T>(dataDir: string, needIndex: boolean, fn: (eraser: Eraser) => Promise<T>): Promise<T> {
  return withProducer(
    'erasure',
    async (producer) => {
      const env = deploymentEnv(dataDir);
      if (!env.DATABASE_URL && needIndex) throw new FacepipeError('DATABASE_UNAVAILABLE', 'this deployment has no face index (DATABASE_URL); people live there');
      const library = env.DATABASE_URL ? await openLibrary({ env, dataDir }) : undefined;
      try {
        return await fn(producer.eraser(library?.index));
      } finally {
        await library?.close();
      }
    },
    { dataDir },
  );
}

/** One line about what an erasure removed. */
export function describeErasure(outcome: Pick<ErasureOutcome, 'record'>): string {
  const c = outcome.record.counts;
  return `${c.objectsDeleted} objects deleted, ${c.objectsRewritten} rewritten, ${c.rows} database rows, ${c.redis} Redis entries (erasure ${outcome.record.id})`;
}

export function describeRecord(r: ErasureRecord): string {
  const what = r.kind === 'person' ? `person (${r.mode})` : r.kind === 'retention' ? `retention: ${r.rule ?? ''}` : 'image';
  const c = r.counts;
  return `${r.at}  ${r.id}  ${what}  by ${r.actor}  ${c.images} images, ${c.faces} faces, ${c.objectsDeleted + c.objectsRewritten} objects, ${c.rows} rows, ${c.redis} Redis${r.subjectRef ? `  ref ${r.subjectRef}` : ''}`;
}
