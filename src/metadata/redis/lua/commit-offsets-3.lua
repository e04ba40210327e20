-- Commits a group's offsets in one step. With generation >= 0 the commit is
-- fenced: the group must be at that generation and list the member; with -1
-- the group must have no members. Every partition must exist. Nothing is
-- written unless all checks pass.
-- KEYS[1] group hash (version, generation, members, record)
-- KEYS[2] the group's offsets: hash "<topic>:<partition>" -> {offset, metadata, commitTime} JSON
-- KEYS[3] set of group ids
-- ARGV[1] key prefix (topic hashes <prefix>topic:<name>, per-topic group sets <prefix>offset-groups:<topic>)
-- ARGV[2] group id
-- ARGV[3] generation, -1 for a commit outside group management
-- ARGV[4] member id
-- ARGV[5..] triples: topic, partition, offset JSON
-- Result: 'OK'; errors ILLEGAL_GENERATION {current ('' when no group)} or, for generation -1,
-- ILLEGAL_GENERATION {members (how many the group has)}, UNKNOWN_MEMBER_ID {},
-- UNKNOWN_TOPIC_OR_PARTITION {topic, partition, partitions ('' when no topic)}.
local prefix = ARGV[1]
local generation = tonumber(ARGV[3])
if generation >= 0 then
  local group = redis.call('HMGET', KEYS[1], 'generation', 'members')
  if not group[1] or tonumber(group[1]) ~= generation then
    return fail('ILLEGAL_GENERATION', { current = group[1] or '' })
  end
  local isMember = false
  for _, id in ipairs(cjson.decode(group[2])) do
    if id == ARGV[4] then
      isMember = true
    end
  end
  if not isMember then
    return fail('UNKNOWN_MEMBER_ID', {})
  end
else
  local members = redis.call('HGET', KEYS[1], 'members')
  local count = members and #cjson.decode(members) or 0
  if count > 0 then
    return fail('ILLEGAL_GENERATION', { members = str(count) })
  end
end
for i = 5, #ARGV, 3 do
  local count = redis.call('HGET', prefix .. 'topic:' .. ARGV[i], 'partitions')
  if not count or tonumber(ARGV[i + 1]) >= tonumber(count) then
    return fail('UNKNOWN_TOPIC_OR_PARTITION', { topic = ARGV[i], partition = ARGV[i + 1], partitions = count or '' })
  end
end
for i = 5, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i] .. ':' .. ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', prefix .. 'offset-groups:' .. ARGV[i], ARGV[2])
end
if #ARGV >= 5 then
  redis.call('SADD', KEYS[3], ARGV[2])
end
return 'OK'
