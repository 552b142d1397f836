-- wrk script: Query of one random pre-loaded partition, "pk = :p", which
-- returns all of its BENCH_PER_PARTITION items (10 by default, ~2 KB).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local head = '{"TableName":"' .. common.table_name .. '",'
  .. '"KeyConditionExpression":"pk = :p",'
  .. '"ExpressionAttributeValues":{":p":{"S":"'
local count_pattern = '"Count"%s*:%s*' .. common.per_partition .. '%f[^%d]'

common.install("Query", function()
  return head .. common.random_partition() .. '"}}}'
end, function(body)
  return body:find(count_pattern) ~= nil
end)
