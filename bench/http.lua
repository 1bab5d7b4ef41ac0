-- wrk script for bench/http.sh. Set by environment (wrk gives scripts no arguments before init):
--   BENCH_TOKEN=<token>       one token, sent on every request (a static request: wrk's fast path)
--   BENCH_TOKENS=<file>       rotate through the tokens in file, one a line
--   BENCH_SPREAD=<n>          send X-Forwarded-For rotating over n addresses in 10.0.0.0/8
--   BENCH_COUNT_429=1         count 429 answers
-- done() prints one line that http.sh parses:
--   RESULT requests rps p50_us p99_us non2xx n429 socket_errors

local token = os.getenv("BENCH_TOKEN")
local tokens_file = os.getenv("BENCH_TOKENS")
local spread = tonumber(os.getenv("BENCH_SPREAD") or "0")
local count429 = os.getenv("BENCH_COUNT_429") == "1"

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
  -- Each thread starts its rotation elsewhere, so that threads do not send the same sequence.
  i = id * 7919
end

if count429 then
  response = function(status, headers, body)
    if status == 429 then n429 = n429 + 1 end
  end
end

function done(summary, latency, requests)
  local total429 = 0
  for _, t in ipairs(threads) do total429 = total429 + (t:get("n429") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %d %d %d %d %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    e.status, total429, e.connect + e.read + e.write + e.timeout))
end
