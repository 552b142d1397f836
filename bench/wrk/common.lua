-- Shared by put_item.lua, get_item.lua and query.lua.
--
-- Each wrk thread has its own Lua state, so everything here is per thread:
-- the request prefix, the random generator (seeded from BENCH_SEED and the
-- thread id, so runs are repeatable), the PutItem counter and the validation
-- counters. setup() and done() run in wrk's main state and see the threads
-- through the `threads` list.
--
-- Settings come from the environment (bench/run.py sets them):
--   BENCH_TABLE          table name (default "bench")
--   BENCH_PARTITIONS     pre-loaded partitions p0..p<N-1> (default 1000)
--   BENCH_PER_PARTITION  sort keys s0..s<M-1> per partition (default 10)
--   BENCH_SEED           random seed (default 42)
--   BENCH_TAG            distinguishes PutItem keys between runs
--   BENCH_VALIDATE=1     also check every response body (costs wrk CPU, so
--                        run.py only turns it on during the warm-up)
local common = {}

common.table_name = os.getenv("BENCH_TABLE") or "bench"
common.partitions = tonumber(os.getenv("BENCH_PARTITIONS") or "1000")
common.per_partition = tonumber(os.getenv("BENCH_PER_PARTITION") or "10")
common.seed = tonumber(os.getenv("BENCH_SEED") or "42")
common.tag = os.getenv("BENCH_TAG") or "run"
common.validate = os.getenv("BENCH_VALIDATE") == "1"

-- A well-formed SigV4 Authorization header (DynamoDB checks its shape
-- before anything else; dynalite rejects requests without one) with a
-- signature of zeros: fine wherever signatures are not verified (Eddy
-- without --auth, dynalite, moto). signed.lua replays requests run.py
-- signed for real, for servers that verify.
local kAmzDate = "20250101T000000Z"
local kAuthorization = "AWS4-HMAC-SHA256 "
  .. "Credential=AKIDBENCH/20250101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64)

-- Everything of the request up to the Content-Length value; request() only
-- appends the length and the body.
function common.prefix(op)
  return "POST / HTTP/1.1\r\n"
    .. "Host: " .. wrk.headers["Host"] .. "\r\n"
    .. "Content-Type: application/x-amz-json-1.0\r\n"
    .. "X-Amz-Target: DynamoDB_20120810." .. op .. "\r\n"
    .. "X-Amz-Date: " .. kAmzDate .. "\r\n"
    .. "Authorization: " .. kAuthorization .. "\r\n"
    .. "Content-Length: "
end

function common.frame(prefix, body)
  return prefix .. #body .. "\r\n\r\n" .. body
end

-- A random existing key: partition "p<i>", sort key "s<j>".
function common.random_partition()
  return "p" .. math.random(0, common.partitions - 1)
end

function common.random_sort_key()
  return "s" .. math.random(0, common.per_partition - 1)
end

-- The ~200-byte item (DynamoDB's size formula: names plus values) used both
-- by the pre-loader (bench/run.py builds the same shape) and by PutItem.
-- Payloads are random letters so that LevelDB's compression gains nothing
-- one server could exploit and another not.
local payloads = {}
local function make_payload(n)
  local chars = {}
  for i = 1, n do chars[i] = string.char(math.random(97, 122)) end
  return table.concat(chars)
end

function common.item_json(pk, sk, n)
  return '{"pk":{"S":"' .. pk .. '"},"sk":{"S":"' .. sk .. '"},'
    .. '"payload":{"S":"' .. payloads[(n % #payloads) + 1] .. '"},'
    .. '"count":{"N":"' .. n .. '"},"active":{"BOOL":true},'
    .. '"tag":{"S":"bench-item"}}'
end

-- Per-thread state and counters read by done().
local thread_id = 0
checked = 0      -- responses whose body was checked (validation mode)
bad = 0          -- responses that were not 200 or failed the body check
first_bad = ""   -- the first such response, for the report

function common.setup(thread)
  threads = threads or {}
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function common.init()
  thread_id = id or 0
  math.randomseed(common.seed + 7919 * thread_id)
  for i = 1, 64 do payloads[i] = make_payload(150) end
end

function common.thread_id()
  return thread_id
end

-- Records one response; `ok` is the operation-specific body check.
function common.check(status, body, ok)
  checked = checked + 1
  if status ~= 200 or not ok then
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

-- Prints one line "BENCH_RESULT {json}" that run.py parses. Latencies are in
-- microseconds, as wrk measures them (from writing the request to reading
-- the whole response, per connection, closed loop).
function common.done(op, summary, latency, requests)
  local total_checked, total_bad, sample = 0, 0, ""
  for _, t in ipairs(threads or {}) do
    total_checked = total_checked + (t:get("checked") or 0)
    total_bad = total_bad + (t:get("bad") or 0)
    local fb = t:get("first_bad") or ""
    if sample == "" then sample = fb end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"op":"%s","requests":%d,"duration_s":%.3f,'
      .. '"requests_per_s":%.1f,"bytes":%d,'
      .. '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,'
      .. '"p999":%d,"max":%d},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"non_2xx":%d,"validated":%s,"checked":%d,"bad_responses":%d,'
      .. '"first_bad":%s}\n',
    op, summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status,
    tostring(common.validate), total_checked, total_bad, json_string(sample)))
end

-- Installs the wrk hooks for one operation. `make_body()` returns the JSON
-- body of the next request; `body_ok(body)` checks a 200 response's body.
function common.install(op, make_body, body_ok)
  local prefix
  setup = common.setup
  init = function(args)
    common.init()
    prefix = common.prefix(op)
  end
  request = function()
    return common.frame(prefix, make_body())
  end
  if common.validate then
    response = function(status, headers, body)
      common.check(status, body, status == 200 and body_ok(body))
    end
  end
  done = function(summary, latency, requests)
    common.done(op, summary, latency, requests)
  end
end

return common
