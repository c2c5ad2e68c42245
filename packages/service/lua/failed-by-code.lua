--[[
  Failed jobs of one queue by error code, read-only, in one round trip.
  Reads BullMQ's failed set (scored by finish time) and each job hash's failedReason, written by
  facepipe as "[CODE] message" (failureCode() in @facepipe/core).

  KEYS[1] the queue's failed set (queue.keys.failed)
  ARGV[1] the queue's job key prefix (queue.keys[''])
  ARGV[2] most jobs scanned, newest first
  ARGV[3] a code: return the ids of jobs failed with it; '' : group every code
  ARGV[4] most ids returned (with a code)

  Returns, grouping: {scanned, code, count, sampleId, code, count, sampleId, ...}
           with a code: {id, id, ...}
]]
local function codeOf(reason)
  if reason then
    local m = string.match(reason, '^%[([A-Z_]+)%]')
    if m then return m end
  end
  return 'INTERNAL'
end

local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local wanted = ARGV[3]

if wanted ~= '' then
  local out = {}
  local limit = tonumber(ARGV[4])
  for _, id in ipairs(ids) do
    if #out >= limit then break end
    if codeOf(redis.call('HGET', ARGV[1] .. id, 'failedReason')) == wanted then out[#out + 1] = id end
  end
  return out
end

local counts, samples, order = {}, {}, {}
for _, id in ipairs(ids) do
  local code = codeOf(redis.call('HGET', ARGV[1] .. id, 'failedReason'))
  if counts[code] == nil then
    counts[code] = 0
    samples[code] = id
    order[#order + 1] = code
  end
  counts[code] = counts[code] + 1
end
local out = {#ids}
for _, code in ipairs(order) do
  out[#out + 1] = code
  out[#out + 1] = counts[code]
  out[#out + 1] = samples[code]
end
return out
