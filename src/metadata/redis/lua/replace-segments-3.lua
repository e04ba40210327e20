-- Swaps contiguous registered segments for one merged segment covering
-- exactly their offsets (compaction), under the caller's lease epoch.
-- Checks mirror segmentRules.ts checkReplacement, in the same order; nothing
-- is written unless all pass.
-- KEYS[1] partition hash
-- KEYS[2] segment index (sorted set scored by end offset)
-- KEYS[3] segment info (hash key -> SegmentInfo JSON)
-- ARGV[1] lease epoch
-- ARGV[2] now, ms
-- ARGV[3] merged segment key
-- ARGV[4] merged segment base offset
-- ARGV[5] merged segment end offset
-- ARGV[6] merged SegmentInfo JSON
-- ARGV[7..] keys to remove (distinct, at least one)
-- Result: 'OK'; errors UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEASE_EPOCH {...},
-- INVALID_REQUEST {reason = unknown-key | gap | coverage | key-exists, ...}.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local now = tonumber(ARGV[2])
local reason = write_fence(part, tonumber(ARGV[1]), now)
if reason then
  return fail('FENCED_LEASE_EPOCH', lease_fields(part, reason, now))
end
local addKey = ARGV[3]
local removed = {}
local removesAddKey = false
for i = 7, #ARGV do
  local json = redis.call('HGET', KEYS[3], ARGV[i])
  if not json then
    return fail('INVALID_REQUEST', { reason = 'unknown-key', key = ARGV[i] })
  end
  local info = cjson.decode(json)
  table.insert(removed, { key = ARGV[i], base = info.baseOffset, last = info.endOffset })
  if ARGV[i] == addKey then
    removesAddKey = true
  end
end
table.sort(removed, function(a, b) return a.base < b.base end)
for i = 2, #removed do
  if removed[i].base ~= removed[i - 1].last then
    return fail('INVALID_REQUEST', { reason = 'gap', key = removed[i].key, expectedBase = str(removed[i - 1].last) })
  end
end
local first, last = removed[1].base, removed[#removed].last
if tonumber(ARGV[4]) ~= first or tonumber(ARGV[5]) ~= last then
  return fail('INVALID_REQUEST', { reason = 'coverage', key = addKey, baseOffset = str(first), endOffset = str(last) })
end
if not removesAddKey and redis.call('HEXISTS', KEYS[3], addKey) == 1 then
  return fail('INVALID_REQUEST', { reason = 'key-exists', key = addKey })
end
for _, segment in ipairs(removed) do
  redis.call('ZREM', KEYS[2], segment.key)
  redis.call('HDEL', KEYS[3], segment.key)
end
redis.call('ZADD', KEYS[2], ARGV[5], addKey)
redis.call('HSET', KEYS[3], addKey, ARGV[6])
return 'OK'
