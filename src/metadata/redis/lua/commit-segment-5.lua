-- Registers a segment, sets the high watermark to its end offset, stores
-- producer states and expires idle ones, in one step, under the caller's lease epoch.
-- Checks, in order (nothing is written unless all pass): the partition exists;
-- the epoch is current and the lease live (leaseRules.ts: writeFenceReason);
-- expected high watermark == current == segment base offset; the key is new.
-- KEYS[1] partition hash (hwm, lso, holder, epoch, expiresAt)
-- KEYS[2] segment index: sorted set of segment keys scored by end offset
-- KEYS[3] segment info: hash segment key -> SegmentInfo JSON
-- KEYS[4] producer states: hash producer id -> ProducerPartitionState JSON
-- KEYS[5] producer state times: sorted set of producer ids scored by last update, ms
-- ARGV[1] lease epoch
-- ARGV[2] expected high watermark
-- ARGV[3] segment key
-- ARGV[4] segment base offset
-- ARGV[5] segment end offset
-- ARGV[6] SegmentInfo JSON
-- ARGV[7] now, ms
-- ARGV[8] producer id expiration, ms: states not updated for longer are removed,
--         oldest first; '-1' = no expiry
-- ARGV[9] most states to remove in this call
-- ARGV[10..] pairs: producer id, ProducerPartitionState JSON
-- Result: the new high watermark as a decimal string; errors UNKNOWN_TOPIC_OR_PARTITION,
-- FENCED_LEASE_EPOCH {reason, epoch, holder, expiresAt, now}, HIGH_WATERMARK_CONFLICT {actual},
-- INVALID_REQUEST {reason = 'key-exists', key}.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local now = tonumber(ARGV[7])
local reason = write_fence(part, tonumber(ARGV[1]), now)
if reason then
  return fail('FENCED_LEASE_EPOCH', lease_fields(part, reason, now))
end
local expected = tonumber(ARGV[2])
if tonumber(part.hwm) ~= expected or tonumber(ARGV[4]) ~= expected then
  return fail('HIGH_WATERMARK_CONFLICT', { actual = part.hwm })
end
if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then
  return fail('INVALID_REQUEST', { reason = 'key-exists', key = ARGV[3] })
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[6])
redis.call('HSET', KEYS[1], 'hwm', ARGV[5])
for i = 10, #ARGV, 2 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[5], ARGV[7], ARGV[i])
end
local expiration = tonumber(ARGV[8])
if expiration >= 0 then
  -- States stored without a time (by a version before expiry) count as updated now.
  if redis.call('HLEN', KEYS[4]) > redis.call('ZCARD', KEYS[5]) then
    for _, id in ipairs(redis.call('HKEYS', KEYS[4])) do
      redis.call('ZADD', KEYS[5], 'NX', ARGV[7], id)
    end
  end
  local idle = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. str(now - expiration), 'LIMIT', 0, tonumber(ARGV[9]))
  for _, id in ipairs(idle) do
    redis.call('HDEL', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
  end
end
return ARGV[5]
