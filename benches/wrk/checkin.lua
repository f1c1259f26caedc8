-- Check-in: POST /api/v1/conferences/{BENCH_CHECKIN_CONF}/check-ins with a token of check-in
-- staff (BENCH_TOKEN), BENCH_CHECKIN_BATCH scans a request (1: one scan as its own body; more:
-- `{"items": [...]}`, a scanner's offline queue), each of a random badge token of the file
-- BENCH_CHECKIN_TOKENS and a nonce unique to this thread and run: every scan is recorded.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
install_status_counter()

local tokens = read_lines(os.getenv("BENCH_CHECKIN_TOKENS"))
local path = "/api/v1/conferences/" .. os.getenv("BENCH_CHECKIN_CONF") .. "/check-ins"
local batch = tonumber(os.getenv("BENCH_CHECKIN_BATCH") or "1")
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
local prefix, counter = "", 0

function init(args)
  seed_random()
  prefix = string.format("wrk-%d-%d", os.time(), math.random(1, 1000000000))
end

local function scan()
  counter = counter + 1
  return string.format('{"token": "%s", "session_id": null, "direction": "in", "nonce": "%s-%d"}',
                       tokens[math.random(#tokens)], prefix, counter)
end

function request()
  local body
  if batch == 1 then
    body = scan()
  else
    local items = {}
    for i = 1, batch do items[i] = scan() end
    body = '{"items": [' .. table.concat(items, ", ") .. "]}"
  end
  return wrk.format("POST", path, headers, body)
end
