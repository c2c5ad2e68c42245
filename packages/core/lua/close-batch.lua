--[[
  KEYS[1] batch hash. Closes an open batch at the items it has now; returns that total, or -1 when it does not exist.
]]
--- @include "includes/mark"
if redis.call('HGET', KEYS[1], 'createdAt') == false then
  return -1
end
local h = redis.call('HMGET', KEYS[1], 'total', 'done', 'failed', 'finishedAt')
redis.call('HSET', KEYS[1], 'ingested', '1')
if (h[4] == false or h[4] == '') and tonumber(h[2] or '0') + tonumber(h[3] or '0') >= tonumber(h[1] or '0') then
  redis.call('HSET', KEYS[1], 'finishedAt', nowMs())
end
return tonumber(h[1] or '0')
