-- wrk script: GetItem of a random pre-loaded item (pk "p<i>", sk "s<j>").
-- The items must exist: bench/run.py pre-loads them (see common.lua).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local head = '{"TableName":"' .. common.table_name .. '","Key":{"pk":{"S":"'

common.install("GetItem", function()
  return head .. common.random_partition() .. '"},"sk":{"S":"'
    .. common.random_sort_key() .. '"}}}'
end, function(body)
  -- A hit has "Item" with the payload; a miss is an empty object.
  return body:find('"Item"', 1, true) ~= nil
    and body:find('"payload"', 1, true) ~= nil
end)
