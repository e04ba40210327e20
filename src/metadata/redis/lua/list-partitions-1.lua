-- Every partition of a topic, in one consistent read.
-- KEYS[1] topic hash
-- ARGV[1] key prefix
-- ARGV[2] topic name
-- Result: array, one entry per partition by number: {hwm, lso, holder or '', epoch, expiresAt};
-- error UNKNOWN_TOPIC_OR_PARTITION.
local count = redis.call('HGET', KEYS[1], 'partitions')
if not count then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local out = {}
for p = 0, tonumber(count) - 1 do
  local h = redis.call('HMGET', ARGV[1] .. 'partition:' .. ARGV[2] .. ':' .. str(p), 'hwm', 'lso', 'holder', 'epoch', 'expiresAt')
  table.insert(out, { h[1], h[2], h[3] or '', h[4], h[5] })
end
return out
