-- Removes the oldest segments and advances the log start offset (retention),
-- under the caller's lease epoch. Checks mirror segmentRules.ts checkDeletion,
-- in the same order; nothing is written unless all pass.
-- KEYS[1] partition hash
-- KEYS[2] segment index (sorted set scored by end offset)
-- KEYS[3] segment info (hash key -> SegmentInfo JSON)
-- ARGV[1] lease epoch
-- ARGV[2] now, ms
-- ARGV[3] new log start offset
-- ARGV[4..] keys to delete (distinct, at least one)
-- Result: 'OK'; errors UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEASE_EPOCH {...},
-- INVALID_REQUEST {reason = unknown-key | not-oldest | log-start, ...}.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local now = tonumber(ARGV[2])
local reason = write_fence(part, tonumber(ARGV[1]), now)
if reason then
  return fail('FENCED_LEASE_EPOCH', lease_fields(part, reason, now))
end
local count = #ARGV - 3
local oldest = redis.call('ZRANGE', KEYS[2], 0, count - 1, 'WITHSCORES')
local isOldest = {}
for i = 1, #oldest, 2 do
  isOldest[oldest[i]] = true
end
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then
    return fail('INVALID_REQUEST', { reason = 'unknown-key', key = ARGV[i] })
  end
  if not isOldest[ARGV[i]] then
    return fail('INVALID_REQUEST', { reason = 'not-oldest', key = ARGV[i] })
  end
end
local expected = tonumber(oldest[#oldest])
if tonumber(ARGV[3]) ~= expected then
  return fail('INVALID_REQUEST', { reason = 'log-start', expected = str(expected), given = ARGV[3] })
end
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
redis.call('HSET', KEYS[1], 'lso', ARGV[3])
return 'OK'
