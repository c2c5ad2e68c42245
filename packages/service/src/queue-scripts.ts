import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readLuaScript } from '@facepipe/core';

/**
 * The dashboard's read-only Lua over a queue's failed and completed jobs (lua/*.lua in this
 * package), so failures are grouped and latencies sampled in one round trip per queue, reading
 * only the fields needed instead of every job's payload and stack trace. Loaded the way BullMQ
 * loads its own commands: read once from .lua files, defined on the connection (EVALSHA after
 * the first call); the keys come from the queue's public key map.
 */
const folder = new URL('../lua/', import.meta.url);
const commands = {
  fpFailedByCode: { numberOfKeys: 1, lua: readLuaScript(folder, 'failed-by-code') },
  fpRecentLatencies: { numberOfKeys: 1, lua: readLuaScript(folder, 'recent-latencies') },
};

type Call = (...args: (string | number)[]) => Promise<unknown>;
type WithCommands = Redis & Record<keyof typeof commands, Call>;

/** The connection with the commands defined (once per connection). */
function withCommands(redis: Redis): WithCommands {
  for (const [name, definition] of Object.entries(commands)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
  return redis as WithCommands;
}

/** The most failed jobs one scan reads (per queue): bounded work even when retention is huge. */
export const maxFailedScan = 100_000;

export interface FailureGroup {
  code: string;
  count: number;
  /** The newest failed job with this code. */
  sampleJobId: string;
}

/** Failed jobs of a queue grouped by error code, newest sample first-seen order. */
export async function failureGroups(redis: Redis, queue: Queue, scanLimit = maxFailedScan): Promise<{ scanned: number; groups: FailureGroup[] }> {
  const out = (await withCommands(redis).fpFailedByCode(queue.keys.failed!, queue.keys['']!, scanLimit, '', 0)) as (string | number)[];
  const groups: FailureGroup[] = [];
  for (let i = 1; i + 2 < out.length; i += 3) {
    groups.push({ code: String(out[i]), count: Number(out[i + 1]), sampleJobId: String(out[i + 2]) });
  }
  groups.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { scanned: Number(out[0] ?? 0), groups };
}

/** Ids of a queue's failed jobs with this error code (newest first, at most `limit`). */
export async function failedJobIds(redis: Redis, queue: Queue, code: string, limit = maxFailedScan): Promise<string[]> {
  if (code === '') return [];
  return (await withCommands(redis).fpFailedByCode(queue.keys.failed!, queue.keys['']!, maxFailedScan, code, limit)) as string[];
}

/** Wait (enqueue → start) and processing (start → finish) times of recent completed jobs. */
export async function recentLatencies(redis: Redis, queue: Queue, since: number, limit = 500): Promise<{ waitMs: number[]; processMs: number[] }> {
  const out = (await withCommands(redis).fpRecentLatencies(queue.keys.completed!, queue.keys['']!, limit, since)) as string[];
  const waitMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i + 2 < out.length; i += 3) {
    const [created, processed, finished] = [Number(out[i]), Number(out[i + 1]), Number(out[i + 2])];
    if (processed > 0 && created > 0) waitMs.push(Math.max(processed - created, 0));
    if (finished > 0 && processed > 0) processMs.push(Math.max(finished - processed, 0));
  }
  return { waitMs, processMs };
}
