-- POST /passport/sms_code with captchas seeded in Redis beforehand by
-- scripts/load.sh: thread t's n-th request uses captcha id and mobile number
-- derived from (BASE + t * STRIDE + n), so every request is a distinct, solved
-- captcha for a distinct mobile.
dofile(os.getenv("WRK_DIR") .. "/common.lua")

local base = tonumber(os.getenv("SEED_BASE") or "0")
local stride = tonumber(os.getenv("SEED_STRIDE") or "1000000")
local answer = os.getenv("SEED_ANSWER") or "ACEF"
local n = 0

function request()
  local k = base + tid * stride + n
  n = n + 1
  local id = string.format("00000000-0000-4000-8000-%012d", k)
  local mobile = string.format("13%09d", k)
  local body = string.format('{"mobile":"%s","image_code":"%s","image_code_id":"%s"}', mobile, answer, id)
  return wrk.format("POST", "/passport/sms_code", { ["Content-Type"] = "application/json" }, body)
end
