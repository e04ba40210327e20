-- Replaces a topic's config when it is still the one the caller read
-- (compare-and-set; the caller merged and validated the new one).
-- KEYS[1] topic hash
-- ARGV[1] config JSON the caller read
-- ARGV[2] new config JSON
-- Result: 'OK', or 'CHANGED' when the config changed since (read again);
-- error UNKNOWN_TOPIC_OR_PARTITION.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
if (redis.call('HGET', KEYS[1], 'config') or '') ~= ARGV[1] then
  return 'CHANGED'
end
redis.call('HSET', KEYS[1], 'config', ARGV[2])
return 'OK'
