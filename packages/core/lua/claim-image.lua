--[[
  Claims an image for a batch item: answered from a remembered outcome, attached to the job
  already in flight, or to be enqueued.
  KEYS[1] image hash, KEYS[2] image waiters set.
  ARGV: pipelineVersion, waiter ("batchId:index"), staleMs, force ("1"/"0").
  Returns {"done", faces, code} | {"attached"} | {"enqueue", failedQueue, failedJobId}.
]]
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
