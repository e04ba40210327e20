-- Creates a topic and its partitions (high watermark 0, not leased), at the
-- lease epoch a deleted topic of the same name reached (delete-topic-2.lua).
-- KEYS[1] set of topic names
-- KEYS[2] topic hash (partitions, config, createdAt)
-- ARGV[1] key prefix (partition hashes are <prefix>partition:<topic>:<n>)
-- ARGV[2] topic name
-- ARGV[3] partition count
-- ARGV[4] topic config, JSON
-- ARGV[5] createdAt, ms
-- ARGV[6] topic id (indexed in <prefix>topic-ids)
-- ARGV[7] most topics the set may hold before this create, or '' for no bound
-- Result: 'OK'; error TOPIC_ALREADY_EXISTS, or INVALID_CONFIG {reason = 'max-topics', count, max}.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return fail('TOPIC_ALREADY_EXISTS', {})
end
if ARGV[7] ~= '' then
  local count = redis.call('SCARD', KEYS[1])
  if count >= tonumber(ARGV[7]) then
    return fail('INVALID_CONFIG', { reason = 'max-topics', count = str(count), max = ARGV[7] })
  end
end
redis.call('HSET', KEYS[2], 'partitions', ARGV[3], 'config', ARGV[4], 'createdAt', ARGV[5], 'id', ARGV[6])
redis.call('HSET', ARGV[1] .. 'topic-ids', ARGV[6], ARGV[2])
redis.call('SADD', KEYS[1], ARGV[2])
local epoch = redis.call('HGET', ARGV[1] .. 'lease-epoch-floors', ARGV[2]) or '0'
for p = 0, tonumber(ARGV[3]) - 1 do
  redis.call('HSET', ARGV[1] .. 'partition:' .. ARGV[2] .. ':' .. str(p), 'hwm', '0', 'lso', '0', 'epoch', epoch, 'expiresAt', '0')
end
return 'OK'
