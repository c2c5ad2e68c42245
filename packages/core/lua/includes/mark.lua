--[[
  mark(bk, index, outcome, faces, code, now): marks item `index` of batch hash `bk` as done or
  failed, once (a bitmap per outcome), keeps the counts, and sets finishedAt when the batch is
  complete. nowMs(): Redis server time in milliseconds.
]]
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
    redis.call('HSET', bk, 'finishedAt', now)
  end
end
local function nowMs()
  local t = redis.call('TIME')
  return tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
