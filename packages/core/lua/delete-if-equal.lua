--[[
  KEYS[1] hash. ARGV: field, value. Deletes the field only if it still holds `value` (a newer one stays).
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
