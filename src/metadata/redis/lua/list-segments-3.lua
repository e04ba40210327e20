-- Segments with endOffset > fromOffset, ordered by offset, in one consistent read.
-- KEYS[1] partition hash (only checked for existence)
-- KEYS[2] segment index (sorted set scored by end offset)
-- KEYS[3] segment info (hash key -> SegmentInfo JSON)
-- ARGV[1] fromOffset
-- ARGV[2] limit, -1 for all
-- Result: array of SegmentInfo JSON; error UNKNOWN_TOPIC_OR_PARTITION.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
if ARGV[2] == '0' then
  return {}
end
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
local out = {}
for i, key in ipairs(keys) do
  out[i] = redis.call('HGET', KEYS[3], key)
end
return out
