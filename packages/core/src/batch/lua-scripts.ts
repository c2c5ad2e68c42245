/**
 * Redis scripts for batch accounting. Each batch keeps a hash of counts and two bitmaps indexed
 * by the item's position in the batch (done, failed): marking is idempotent (a retried or
 * repeated completion flips no bit twice) and costs one bit per image, so a batch of ten
 * million images needs about 2.5 MB of Redis, not a set of ids.
 *
 * Images are shared between batches: an image in flight has a set of waiters
 * ("batchId:index"); completing the image marks every waiter.
 */

/**
 * Shared Lua: events for webhooks. Appended to the stream `<prefix>:events` only while some
 * webhook is registered (`<prefix>:webhooks` exists), so a deployment without webhooks writes
 * nothing; capped at about 100,000 entries. Batch keys are `<prefix>:batch:<id>` (ids have no ':').
 */
const eventFunctions = `
local function emitEvent(prefix, ...)
  if redis.call('EXISTS', prefix .. ':webhooks') == 1 then
    redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', 100000, '*', ...)
  end
end
local function batchFinished(bk, now)
  redis.call('HSET', bk, 'finishedAt', now)
  local prefix, id = string.match(bk, '^(.*):batch:([^:]*)$')
  if prefix then emitEvent(prefix, 'type', 'batch.finished', 'batchId', id) end
end
`;

/** Shared Lua: mark item `index` of batch hash `bk` as done/failed. */
const markFunction = `${eventFunctions}
local function mark(bk, index, outcome, faces, code, now)
  if outcome == 'done' then
    if redis.call('SETBIT', bk .. ':done', index, 1) == 0 then
      redis.call('HINCRBY', bk, 'done', 1)
      redis.call('HINCRBY', bk, 'faces', faces)
      if redis.call('GETBIT', bk .. ':failed', index) == 1 then
        redis.call('SETBIT', bk .. ':failed', index, 0)
        redis.call('HINCRBY', bk, 'failed', -1)
      end
    end
  else
    if redis.call('GETBIT', bk .. ':done', index) == 0 and redis.call('SETBIT', bk .. ':failed', index, 1) == 0 then
      redis.call('HINCRBY', bk, 'failed', 1)
      redis.call('HINCRBY', bk, 'err:' .. code, 1)
    end
  end
  local h = redis.call('HMGET', bk, 'total', 'done', 'failed', 'ingested', 'finishedAt')
  if h[4] == '1' and (h[5] == false or h[5] == '') and tonumber(h[2] or '0') + tonumber(h[3] or '0') >= tonumber(h[1] or '0') then
    batchFinished(bk, now)
  end
end
local function nowMs()
  local t = redis.call('TIME')
  return tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
`;

/**
 * KEYS[1] image hash, KEYS[2] image waiters set.
 * ARGV: pipelineVersion, waiter ("batchId:index"), staleMs, force ("1"/"0").
 * Returns {"done", faces, code} | {"attached"} | {"enqueue", failedQueue, failedJobId}.
 */
export const claimImageScript = `
local h = redis.call('HMGET', KEYS[1], 'state', 'version', 'queuedAt', 'faces', 'code', 'failedQueue', 'failedJobId')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[4] ~= '1' and h[1] == 'done' and h[2] == ARGV[1] then
  return {'done', h[4] or '0', h[5] or ''}
end
redis.call('SADD', KEYS[2], ARGV[2])
if h[1] == 'queued' and h[2] == ARGV[1] and now - tonumber(h[3] or '0') < tonumber(ARGV[3]) then
  return {'attached'}
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'version', ARGV[1], 'queuedAt', tostring(now))
redis.call('HDEL', KEYS[1], 'failedQueue', 'failedJobId', 'code')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {'enqueue', h[6] or '', h[7] or ''}
`;

/**
 * KEYS[1] image hash, KEYS[2] image waiters set.
 * ARGV: pipelineVersion, outcome (done|failed), faces, code, key prefix, ttlSeconds,
 *       failedQueue, failedJobId.
 * Marks every waiting batch item and remembers the outcome for ttlSeconds. Returns waiters marked.
 * A failure is an `image.failed` event (with its waiters) for webhooks.
 * After a failure the waiters are kept for ttlSeconds too: when the failed job is retried (from
 * the dashboard, say) and succeeds, the batches that counted it as failed count it as done.
 */
export const completeImageScript = `${markFunction}
local members = redis.call('SMEMBERS', KEYS[2])
if ARGV[2] == 'done' then
  redis.call('DEL', KEYS[2])
else
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', ARGV[1], 'faces', ARGV[3], 'code', ARGV[4])
if ARGV[2] == 'failed' then
  redis.call('HSET', KEYS[1], 'failedQueue', ARGV[7], 'failedJobId', ARGV[8])
  local imageId = string.match(KEYS[1], ':img:([^:]*)$')
  if imageId then emitEvent(ARGV[5], 'type', 'image.failed', 'imageId', imageId, 'code', ARGV[4], 'queue', ARGV[7], 'jobId', ARGV[8], 'waiters', table.concat(members, ',')) end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
local now = nowMs()
for _, m in ipairs(members) do
  local sep = string.find(m, ':', 1, true)
  if sep then
    mark(ARGV[5] .. ':batch:' .. string.sub(m, 1, sep - 1), tonumber(string.sub(m, sep + 1)), ARGV[2], tonumber(ARGV[3]), ARGV[4], now)
  end
end
return #members
`;

/** KEYS[1] batch hash. ARGV: index, outcome, faces, code. Marks one item directly. */
export const markItemScript = `${markFunction}
mark(KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4], nowMs())
return 1
`;

/**
 * KEYS[1] batch hash. Counts one more item of a batch that is still open (uploads): returns its
 * index, or -1 when the batch does not exist or has been closed.
 */
export const addOpenItemScript = `
if redis.call('HGET', KEYS[1], 'createdAt') == false or redis.call('HGET', KEYS[1], 'ingested') == '1' then
  return -1
end
return redis.call('HINCRBY', KEYS[1], 'total', 1) - 1
`;

/** KEYS[1] batch hash. Closes an open batch at the items it has now; returns that total, or -1 when it does not exist. */
export const closeBatchScript = `${markFunction}
if redis.call('HGET', KEYS[1], 'createdAt') == false then
  return -1
end
local h = redis.call('HMGET', KEYS[1], 'total', 'done', 'failed', 'finishedAt')
redis.call('HSET', KEYS[1], 'ingested', '1')
if (h[4] == false or h[4] == '') and tonumber(h[2] or '0') + tonumber(h[3] or '0') >= tonumber(h[1] or '0') then
  batchFinished(KEYS[1], nowMs())
end
return tonumber(h[1] or '0')
`;

/** KEYS[1] batch hash. ARGV: total. Records that ingestion finished with `total` items. */
export const finishIngestScript = `${markFunction}
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'ingested', '1')
local h = redis.call('HMGET', KEYS[1], 'done', 'failed', 'finishedAt')
if (h[3] == false or h[3] == '') and tonumber(h[1] or '0') + tonumber(h[2] or '0') >= tonumber(ARGV[1]) then
  batchFinished(KEYS[1], nowMs())
end
return 1
`;

/** KEYS[1] hash. ARGV: field, value. Deletes the field only if it still holds `value` (a newer one stays). */
export const deleteIfEqualScript = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
`;
