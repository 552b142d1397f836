-- wrk script: the Query of query.lua on the global secondary index
-- BENCH_INDEX (default "by_count": partition key pk, sort key count, ALL
-- projection, created by run.py when --ops has query_gsi). "pk = :p" on the
-- index returns the same BENCH_PER_PARTITION items as the table Query, so
-- the two measure the same work apart from the index.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local index_name = os.getenv("BENCH_INDEX") or "by_count"
local head = '{"TableName":"' .. common.table_name .. '",'
  .. '"IndexName":"' .. index_name .. '",'
  .. '"KeyConditionExpression":"pk = :p",'
  .. '"ExpressionAttributeValues":{":p":{"S":"'
local count_pattern = '"Count"%s*:%s*' .. common.per_partition .. '%f[^%d]'

common.install("Query", function()
  return head .. common.random_partition() .. '"}}}'
end, function(body)
  return body:find(count_pattern) ~= nil
end)
