-- wrk script: POST /otp/verify with a WRONG code ("000000") on verification ids made beforehand
-- (one per line in BENCH_IDS). The right code cannot be known from outside (only its keyed hash is
-- stored), so this measures failed verifies: 422 INVALID_CODE is the expected answer.
-- Env: BENCH_APPID, BENCH_AUTH, BENCH_IDS. Headers, counting and the "BENCH {json}" line:
-- wrk_common.lua.
local appid = os.getenv("BENCH_APPID")
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")

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
  count_status(status)
end
