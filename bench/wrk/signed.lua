-- wrk script: replays a file of pre-signed requests (bench/run.py writes it
-- for the *_signed ops: each a complete HTTP request with a real SigV4
-- signature over its own body and a date of the run, so a server with
-- --auth verifies every one of them in full).
--
-- The file is a sequence of "<byte length>\n<request bytes>". Each thread
-- starts at its own offset and cycles through the whole set.
--   BENCH_REQUESTS  the file
--   BENCH_OP        the operation's name, for the report
--   BENCH_EXPECT    a string every 200 body must contain in validation mode
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local requests = {}
local next_index = 1

local function load(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  local at = 1
  while at <= #data do
    local nl = data:find("\n", at, true)
    local n = tonumber(data:sub(at, nl - 1))
    requests[#requests + 1] = data:sub(nl + 1, nl + n)
    at = nl + n + 1
  end
end

local op = os.getenv("BENCH_OP") or "signed"
local expect = os.getenv("BENCH_EXPECT") or ""

setup = common.setup
init = function(args)
  common.init()
  load(os.getenv("BENCH_REQUESTS"))
  next_index = (common.thread_id() * 7919) % #requests + 1
end
request = function()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
if common.validate then
  response = function(status, headers, body)
    common.check(status, body, status == 200 and body:find(expect, 1, true))
  end
end
done = function(summary, latency, requests_)
  common.done(op, summary, latency, requests_)
end
