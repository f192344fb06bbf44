-- wrk script: POST /otp/send with Basic auth and a random Brazilian mobile (+55119 + 8 digits).
-- Env: BENCH_APPID, BENCH_AUTH, optional BENCH_QUOTA (responses per thread, then the thread stops;
-- used to fill the queue with a known number of deliveries). Headers, counting and the "BENCH {json}"
-- line: wrk_common.lua.
local appid, quota = os.getenv("BENCH_APPID"), tonumber(os.getenv("BENCH_QUOTA") or "")
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
  math.randomseed(os.time() * 1000 + id)
  statuses, answered = {}, 0
end

function request()
  local body = string.format('{"appid":"%s","recipient":"+55119%08d"}', appid, math.random(0, 99999999))
  return wrk.format(nil, "/otp/send", nil, body)
end

function response(status)
  count_status(status)
  answered = answered + 1
  if quota and answered >= quota then wrk.thread:stop() end
end
