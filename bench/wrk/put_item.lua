-- wrk script: PutItem of distinct ~200-byte items.
--
-- Keys are pk = "w<tag>-<thread>-<counter>", sk = "0", so every request
-- writes a new item and no two threads or runs collide (BENCH_TAG changes
-- between the warm-up and the measured run). See common.lua for settings.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local counter = 0
local head = '{"TableName":"' .. common.table_name .. '","Item":'

common.install("PutItem", function()
  counter = counter + 1
  local pk = "w" .. common.tag .. "-" .. common.thread_id() .. "-" .. counter
  return head .. common.item_json(pk, "0", counter) .. "}"
end, function(body)
  -- PutItem without ReturnValues answers an empty object.
  return body:find("^%s*{%s*}%s*$") ~= nil
end)
