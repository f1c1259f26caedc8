-- Shared by the wrk scripts of benches/run.sh: counts response statuses per thread and, at the
-- end, prints one JSON line with the figures run.sh puts into RESULTS.md.
local threads = {}

-- The non-empty lines of file `path` (ids, countries, tokens).
function read_lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(out, line) end
  end
  return out
end

-- Seeds this thread's random numbers apart from the other threads'.
function seed_random()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function setup(thread)
  table.insert(threads, thread)
end

-- Scripts that need per-status counts (the writes) set `count_statuses = true`: defining
-- response() makes wrk parse every response, which costs the client some CPU.
function install_status_counter()
  statuses = {}
  response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do
        counts[tostring(code)] = (counts[tostring(code)] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  -- The fraction of requests slower than 50 ms: the percentile at which latency reaches it.
  local lo, hi = 0, 100
  if latency.max < 50000 then lo = 100 end
  for _ = 1, 40 do
    if hi - lo < 0.0001 then break end
    local mid = (lo + hi) / 2
    if latency:percentile(mid) >= 50000 then hi = mid else lo = mid end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "over_50ms": %.6f, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout, (100 - lo) / 100, table.concat(parts, ", ")))
end
