-- Stores a consumer group when its stored version (0 when absent) equals the
-- expected one: optimistic concurrency for the group coordinator.
-- KEYS[1] group hash (version, generation, members, record)
-- KEYS[2] set of group ids
-- ARGV[1] group id
-- ARGV[2] expected version
-- ARGV[3] generation
-- ARGV[4] member ids, JSON array (read by commit-offsets for fencing)
-- ARGV[5] the group record, JSON (groupCodec.ts)
-- Result: the new version (integer), or 0 when the stored version differed.
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'version', str(version + 1), 'generation', ARGV[3], 'members', ARGV[4], 'record', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return version + 1
