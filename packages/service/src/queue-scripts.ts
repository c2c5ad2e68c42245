import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Read-only Lua over BullMQ's own keys (`<prefix>:<queue>:failed`, a sorted set scored by
 * finish time; `<prefix>:<queue>:<jobId>`, the job hash), so the dashboard groups failures and
 * samples latencies in one round trip per queue, reading only the fields it needs.
 */

/** Failure code of a failedReason written as `[CODE] message` (see failureCode() in core). */
const codeOf = `
local function codeOf(reason)
  if reason then
    local m = string.match(reason, '^%[([A-Z_]+)%]')
    if m then return m end
  end
  return 'INTERNAL'
end
`;

/** KEYS[1] failed set. ARGV: job key prefix, max jobs scanned (newest first). → {scanned, code, count, sampleId, …} */
const failureGroupsLua = `${codeOf}
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local counts, samples, order = {}, {}, {}
for _, id in ipairs(ids) do
  local code = codeOf(redis.call('HGET', ARGV[1] .. id, 'failedReason'))
  if counts[code] == nil then
    counts[code] = 0
    samples[code] = id
    order[#order + 1] = code
  end
  counts[code] = counts[code] + 1
end
local out = {#ids}
for _, code in ipairs(order) do
  out[#out + 1] = code
  out[#out + 1] = counts[code]
  out[#out + 1] = samples[code]
end
return out
`;

/** KEYS[1] failed set. ARGV: job key prefix, max scanned, code, max returned. → job ids failed with that code. */
const failedIdsLua = `${codeOf}
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for _, id in ipairs(ids) do
  if #out >= tonumber(ARGV[4]) then break end
  if codeOf(redis.call('HGET', ARGV[1] .. id, 'failedReason')) == ARGV[3] then out[#out + 1] = id end
end
return out
`;

/** KEYS[1] completed set. ARGV: job key prefix, max jobs, since (ms). → {timestamp, processedOn, finishedOn, …} newest first. */
const latencyLua = `
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'timestamp', 'processedOn', 'finishedOn')
  out[#out + 1] = h[1] or ''
  out[#out + 1] = h[2] or ''
  out[#out + 1] = h[3] or ''
end
return out
`;

/** The most failed jobs one scan reads (per queue): bounded work even when retention is huge. */
export const maxFailedScan = 100_000;

export interface FailureGroup {
  code: string;
  count: number;
  /** The newest failed job with this code. */
  sampleJobId: string;
}

type Eval = (script: string, numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

function evalOn(redis: Redis): Eval {
  return (script, numKeys, ...args) => redis.eval(script, numKeys, ...args);
}

/** Failed jobs of a queue grouped by error code, newest sample first-seen order. */
export async function failureGroups(redis: Redis, queue: Queue, scanLimit = maxFailedScan): Promise<{ scanned: number; groups: FailureGroup[] }> {
  const out = (await evalOn(redis)(failureGroupsLua, 1, queue.toKey('failed'), queue.toKey(''), scanLimit)) as (string | number)[];
  const groups: FailureGroup[] = [];
  for (let i = 1; i + 2 < out.length; i += 3) {
    groups.push({ code: String(out[i]), count: Number(out[i + 1]), sampleJobId: String(out[i + 2]) });
  }
  groups.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { scanned: Number(out[0] ?? 0), groups };
}

/** Ids of a queue's failed jobs with this error code (newest first, at most `limit`). */
export async function failedJobIds(redis: Redis, queue: Queue, code: string, limit = maxFailedScan): Promise<string[]> {
  return (await evalOn(redis)(failedIdsLua, 1, queue.toKey('failed'), queue.toKey(''), maxFailedScan, code, limit)) as string[];
}

/** Wait (enqueue → start) and processing (start → finish) times of recent completed jobs. */
export async function recentLatencies(redis: Redis, queue: Queue, since: number, limit = 500): Promise<{ waitMs: number[]; processMs: number[] }> {
  const out = (await evalOn(redis)(latencyLua, 1, queue.toKey('completed'), queue.toKey(''), limit, since)) as string[];
  const waitMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i + 2 < out.length; i += 3) {
    const [created, processed, finished] = [Number(out[i]), Number(out[i + 1]), Number(out[i + 2])];
    if (processed > 0 && created > 0) waitMs.push(Math.max(processed - created, 0));
    if (finished > 0 && processed > 0) processMs.push(Math.max(finished - processed, 0));
  }
  return { waitMs, processMs };
}
