-- wrk script for bench/http.sh. Set by environment (wrk gives scripts no arguments before init):
--   BENCH_TOKEN=<token>       one token, sent on every request (a static request: wrk's fast path)
--   BENCH_TOKENS=<file>       rotate through the tokens in file, one a line
--   BENCH_SPREAD=<n>          send X-Forwarded-For rotating over n addresses in 10.0.0.0/8
--   BENCH_COUNT_429=1         count 429 answers
--   BENCH_STATUSES=1          count answers by status, other than 2xx (and 429 with BENCH_COUNT_429)
-- Either of the last two defines response, which takes wrk off its fast path (it parses every
-- answer's headers and body and calls the script): a cost on wrk's side, so both are opt-in.
-- done() prints one line that http.sh parses:
--   RESULT requests rps p50_us p99_us non2xx n429 socket_errors
-- and, with BENCH_STATUSES, one more: STATUSES code=count ... (nothing after it when every
-- answer was 2xx).

local token = os.getenv("BENCH_TOKEN")
local tokens_file = os.getenv("BENCH_TOKENS")
local spread = tonumber(os.getenv("BENCH_SPREAD") or "0")
local count429 = os.getenv("BENCH_COUNT_429") == "1"
local statuses = os.getenv("BENCH_STATUSES") == "1"

if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local tokens = {}
if tokens_file and tokens_file ~= "" then
  for line in io.lines(tokens_file) do
    if line ~= "" then tokens[#tokens + 1] = "Bearer " .. line end
  end
end

-- Only a script that defines request is dynamic; leave it undefined for a static request.
if #tokens > 0 or spread > 0 then
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  request = function()
    i = i + 1
    if #tokens > 0 then headers["Authorization"] = tokens[(i % #tokens) + 1] end
    if spread > 0 then
      local n = i % spread
      headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
        math.floor(n / 256) % 256, n % 256)
    end
    return wrk.format(nil, nil, headers)
  end
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  n429 = 0
  other = {} -- answers other than 2xx, by status
  -- Each thread starts its rotation elsewhere, so that threads do not send the same sequence.
  i = id * 7919
end

if count429 or statuses then
  response = function(status, headers, body)
    if status == 429 then n429 = n429 + 1 end
    if statuses and (status < 200 or status > 299) then
      other[status] = (other[status] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  local total429 = 0
  for _, t in ipairs(threads) do total429 = total429 + (t:get("n429") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %d %d %d %d %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    e.status, total429, e.connect + e.read + e.write + e.timeout))
  if statuses then
    local sum = {}
    for _, t in ipairs(threads) do
      for code, n in pairs(t:get("other") or {}) do sum[code] = (sum[code] or 0) + n end
    end
    local parts = {}
    for code, n in pairs(sum) do parts[#parts + 1] = code .. "=" .. n end
    table.sort(parts)
    io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
  end
end
