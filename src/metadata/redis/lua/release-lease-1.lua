-- Gives a lease up: clears the holder and sets the expiry to now, only when
-- the lease is still the current one (same epoch and holder).
-- KEYS[1] partition hash
-- ARGV[1] agent id
-- ARGV[2] lease epoch
-- ARGV[3] now, ms
-- Result: 1 when released, 0 when the lease was no longer current;
-- error UNKNOWN_TOPIC_OR_PARTITION.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
if renew_fence(part, tonumber(ARGV[2]), ARGV[1]) then
  return 0
end
redis.call('HDEL', KEYS[1], 'holder')
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[3])
return 1
