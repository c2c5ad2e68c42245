--[[
  KEYS[1] batch hash. ARGV: total. Records that ingestion finished with `total` items.
]]
--- @include "includes/mark"
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'ingested', '1')
local h = redis.call('HMGET', KEYS[1], 'done', 'failed', 'finishedAt')
if (h[3] == false or h[3] == '') and tonumber(h[1] or '0') + tonumber(h[2] or '0') >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'finishedAt', nowMs())
end
return 1
