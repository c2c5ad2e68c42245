--[[
  Enqueue, start and finish times of a queue's recently completed jobs, read-only.

  KEYS[1] the queue's completed set (queue.keys.completed), scored by finish time
  ARGV[1] the queue's job key prefix (queue.keys[''])
  ARGV[2] most jobs read, newest first
  ARGV[3] only jobs finished at or after this time (ms)

  Returns {timestamp, processedOn, finishedOn, ...}, newest first ('' where a field is missing).
]]
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'timestamp', 'processedOn', 'finishedOn')
  out[#out + 1] = h[1] or ''
  out[#out + 1] = h[2] or ''
  out[#out + 1] = h[3] or ''
end
return out
