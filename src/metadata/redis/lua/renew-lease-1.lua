-- Extends a lease still held under the same epoch by the same agent
-- (leaseRules.ts: renewFenceReason; an expired but still current lease may be renewed).
-- KEYS[1] partition hash
-- ARGV[1] agent id
-- ARGV[2] lease epoch
-- ARGV[3] ttl, ms
-- ARGV[4] now, ms
-- Result: the new expiresAt as a decimal string;
-- errors UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEASE_EPOCH {reason, epoch, holder, expiresAt, now}.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local now = tonumber(ARGV[4])
local reason = renew_fence(part, tonumber(ARGV[2]), ARGV[1])
if reason then
  return fail('FENCED_LEASE_EPOCH', lease_fields(part, reason, now))
end
local expiresAt = str(now + tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'expiresAt', expiresAt)
return expiresAt
