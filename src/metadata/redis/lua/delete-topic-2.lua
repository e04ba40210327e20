-- Deletes a topic with its partitions, segment registry, producer states and
-- every group's committed offsets on it, and its id from <prefix>topic-ids. A group known only by offsets on this
-- topic disappears from the group list. The largest lease epoch of its
-- partitions is kept in <prefix>lease-epoch-floors, where create-topic starts.
-- KEYS[1] set of topic names
-- KEYS[2] topic hash
-- ARGV[1] key prefix
-- ARGV[2] topic name
-- Result: 'OK'; error UNKNOWN_TOPIC_OR_PARTITION.
local count = redis.call('HGET', KEYS[2], 'partitions')
if not count then
  return fail('UNKNOWN_TOPIC_OR_PARTITION', {})
end
local prefix, topic = ARGV[1], ARGV[2]
count = tonumber(count)
local floors = prefix .. 'lease-epoch-floors'
local floor = tonumber(redis.call('HGET', floors, topic) or '0')
for p = 0, count - 1 do
  local suffix = topic .. ':' .. str(p)
  floor = math.max(floor, tonumber(redis.call('HGET', prefix .. 'partition:' .. suffix, 'epoch') or '0'))
  redis.call('DEL', prefix .. 'partition:' .. suffix, prefix .. 'segments:' .. suffix,
    prefix .. 'segment-info:' .. suffix, prefix .. 'producer-states:' .. suffix,
    prefix .. 'producer-state-times:' .. suffix)
end
local offsetGroups = prefix .. 'offset-groups:' .. topic
for _, group in ipairs(redis.call('SMEMBERS', offsetGroups)) do
  local offsets = prefix .. 'offsets:' .. group
  for p = 0, count - 1 do
    redis.call('HDEL', offsets, topic .. ':' .. str(p))
  end
  if redis.call('EXISTS', offsets) == 0 and redis.call('EXISTS', prefix .. 'group:' .. group) == 0 then
    redis.call('SREM', prefix .. 'groups', group)
  end
end
redis.call('HSET', floors, topic, str(floor))
local id = redis.call('HGET', KEYS[2], 'id')
if id then
  redis.call('HDEL', prefix .. 'topic-ids', id)
end
redis.call('DEL', offsetGroups, KEYS[2])
redis.call('SREM', KEYS[1], topic)
return 'OK'
