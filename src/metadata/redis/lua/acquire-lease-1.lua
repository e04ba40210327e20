-- Takes a partition's lease when it is free, expired or already held by the
-- caller; every acquisition increments the epoch (leaseRules.ts: acquireBlocker).
-- KEYS[1] partition hash (hwm, lso, holder, epoch, expiresAt)
-- ARGV[1] agent id
-- ARGV[2] ttl, ms
-- ARGV[3] now, ms
-- Result: {epoch, expiresAt} as decimal strings;
-- errors UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER {holder, expiresAt}.
local part = load_hash(KEYS[1])
if not part then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local now = tonumber(ARGV[3])
if part.holder ~= nil and part.holder ~= ARGV[1] and now <= tonumber(part.expiresAt) then
  return fail('NOT_LEADER', { holder = part.holder, expiresAt = part.expiresAt })
end
local epoch = str(tonumber(part.epoch) + 1)
local expiresAt = str(now + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'epoch', epoch, 'expiresAt', expiresAt)
return { epoch, expiresAt }
