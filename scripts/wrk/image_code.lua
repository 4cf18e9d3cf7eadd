-- GET /passport/image_code with a fresh random UUID v4 per request.
dofile(os.getenv("WRK_DIR") .. "/common.lua")

local hex = "0123456789abcdef"
local function h(n)
  local t = {}
  for i = 1, n do
    local k = math.random(1, 16)
    t[i] = hex:sub(k, k)
  end
  return table.concat(t)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function request()
  local id = h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-a" .. h(3) .. "-" .. h(12)
  return wrk.format("GET", "/passport/image_code?code_id=" .. id)
end
