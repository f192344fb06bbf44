-- wrk script: POST /otp/send with Basic auth and a random Brazilian mobile (+55119 + 8 digits).
-- Env: BENCH_APPID, BENCH_AUTH (base64 of key_id:secret), optional BENCH_QUOTA (responses per
-- thread, then the thread stops; used to fill the queue with a known number of deliveries).
-- done() prints one line "BENCH {json}" with the numbers bench/run reads.
local appid, quota = os.getenv("BENCH_APPID"), tonumber(os.getenv("BENCH_QUOTA") or "")
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
  statuses, answered = {}, 0
end

function request()
  local body = string.format('{"appid":"%s","recipient":"+55119%08d"}', appid, math.random(0, 99999999))
  return wrk.format(nil, "/otp/send", nil, body)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if quota and answered >= quota then wrk.thread:stop() end
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
