--[[
  KEYS[1] image hash, KEYS[2] image waiters set.
  ARGV: pipelineVersion, outcome (done|failed), faces, code, key prefix, ttlSeconds,
  failedQueue, failedJobId.
  Marks every waiting batch item and remembers the outcome for ttlSeconds. Returns waiters marked.
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
