-- Scenario A: GET BENCH_PATH (with %s replaced by a conference id) over random ids read
-- from the file BENCH_IDS (one id a line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local ids = read_lines(os.getenv("BENCH_IDS"))
local template = os.getenv("BENCH_PATH")

function init(args)
  seed_random()
end

function request()
  return wrk.format("GET", string.format(template, ids[math.random(#ids)]))
end
