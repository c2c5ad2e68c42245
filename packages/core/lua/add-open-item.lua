--[[
  KEYS[1] batch hash. Counts one more item of a batch that is still open (uploads): returns its
  index, or -1 when the batch does not exist or has been closed.
]]
if redis.call('HGET', KEYS[1], 'createdAt') == false or redis.call('HGET', KEYS[1], 'ingested') == '1' then
  return -1
end
return redis.call('HINCRBY', KEYS[1], 'total', 1) - 1
