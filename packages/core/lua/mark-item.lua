--[[
  KEYS[1] batch hash. ARGV: index, outcome, faces, code. Marks one item directly.
]]
--- @include "includes/mark"
mark(KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4], nowMs())
return 1
