-- Gives a topic created by an agent that did not store topic ids the
-- caller's new id, unless it has one by now; indexes it in topic-ids.
-- KEYS[1] topic hash
-- KEYS[2] topic-ids hash
-- ARGV[1] topic name
-- ARGV[2] the new id
-- Result: the topic's id; nil when the topic does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
local id = redis.call('HGET', KEYS[1], 'id')
if id then
  return id
end
redis.call('HSET', KEYS[1], 'id', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return ARGV[2]
