--[[
  KEYS[1] image hash, KEYS[2] image waiters set, KEYS[3] list of the images remembered as done.
  ARGV: pipelineVersion, outcome (done|failed), faces, code, key prefix, ttlSeconds,
  failedQueue, failedJobId, rememberMax (0: no count limit), imageId.
  Marks every waiting batch item and remembers the outcome for ttlSeconds. Returns waiters marked.
  A done image is remembered among at most rememberMax: past it the oldest done image is
  forgotten, so Redis holds a bounded number of outcomes however fast images finish.
  After a failure the waiters are kept for ttlSeconds too: when the failed job is retried (from
  the dashboard, say) and succeeds, the batches that counted it as failed count it as done.
]]
--- @include "includes/mark"
local members = redis.call('SMEMBERS', KEYS[2])
if ARGV[2] == 'done' then
  redis.call('DEL', KEYS[2])
else
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', ARGV[1], 'faces', ARGV[3], 'code', ARGV[4])
if ARGV[2] == 'failed' then
  redis.call('HSET', KEYS[1], 'failedQueue', ARGV[7], 'failedJobId', ARGV[8])
  -- An `image.failed` event (with the batch items waiting on it) for webhooks.
  local imageId = string.match(KEYS[1], ':img:([^:]*)$')
  if imageId then emitEvent(ARGV[5], 'type', 'image.failed', 'imageId', imageId, 'code', ARGV[4], 'queue', ARGV[7], 'jobId', ARGV[8], 'waiters', table.concat(members, ',')) end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
local rememberMax = tonumber(ARGV[9])
if ARGV[2] == 'done' and tonumber(ARGV[6]) > 0 and rememberMax > 0 then
  redis.call('RPUSH', KEYS[3], ARGV[10])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
  -- Forget the oldest past the limit: a few per call, so a lowered limit catches up gradually.
  local over = math.min(redis.call('LLEN', KEYS[3]) - rememberMax, 16)
  for _ = 1, over do
    local old = redis.call('LPOP', KEYS[3])
    local oldKey = ARGV[5] .. ':img:' .. old
    -- Only a finished image is forgotten: one queued again since is in flight, not remembered.
    if old ~= ARGV[10] and redis.call('HGET', oldKey, 'state') == 'done' then redis.call('DEL', oldKey) end
  end
end
local now = nowMs()
for _, m in ipairs(members) do
  local sep = string.find(m, ':', 1, true)
  if sep then
    mark(ARGV[5] .. ':batch:' .. string.sub(m, 1, sep - 1), tonumber(string.sub(m, sep + 1)), ARGV[2], tonumber(ARGV[3]), ARGV[4], now)
  end
end
return #members
