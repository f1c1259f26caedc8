-- Scenario A: GET BENCH_PATH (with %s replaced by a conference id) over random ids read
-- from the file BENCH_IDS (one id a line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  if #line > 0 then table.insert(ids, line) end
end
local template = os.getenv("BENCH_PATH")

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return wrk.format("GET", string.format(template, ids[math.random(#ids)]))
end
