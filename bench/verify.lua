-- wrk script: POST /otp/verify with a WRONG code ("000000") on verification ids made beforehand
-- (one per line in BENCH_IDS). The right code cannot be known from outside (only its keyed hash is
-- stored), so this measures failed verifies: 422 INVALID_CODE is the expected answer.
-- Env: BENCH_APPID, BENCH_AUTH, BENCH_IDS. done() prints "BENCH {json}" like send.lua.
local appid = os.getenv("BENCH_APPID")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_AUTH")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  statuses, ids = {}, {}
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
end

function request()
  local body = string.format('{"appid":"%s","verification_id":"%s","otp_code":"000000"}',
    appid, ids[math.random(#ids)])
  return wrk.format(nil, "/otp/verify", nil, body)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, counts = {}, {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do counts[#counts + 1] = string.format('"%d":%d', status, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(counts, ",")))
end
