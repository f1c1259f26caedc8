-- Scenario D: POST /api/v1/conferences/{id}/delegations with a bearer token (BENCH_TOKEN),
-- for a random conference of BENCH_IDS and a random country of BENCH_COUNTRIES: most are 201,
-- the rest 409 (that country already has a delegation there); run.sh reports both.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
install_status_counter()

local ids = read_lines(os.getenv("BENCH_IDS"))
local countries = read_lines(os.getenv("BENCH_COUNTRIES"))
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
local roles = { "member", "member", "member", "observer", "guest" }

function init(args)
  seed_random()
end

function request()
  local body = string.format(
    '{"country": "%s", "role": "%s", "status": "confirmed", "size": %d, ' ..
    '"head": {"name": "Benchmark Head", "title": "Ambassador"}}',
    countries[math.random(#countries)], roles[math.random(#roles)], math.random(1, 9))
  return wrk.format("POST", "/api/v1/conferences/" .. ids[math.random(#ids)] .. "/delegations",
                    headers, body)
end
