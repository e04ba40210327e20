-- Deletes an empty group: its record and committed offsets, and its entry in
-- the group set and in the per-topic sets of groups with offsets.
-- KEYS[1] group hash (version, generation, members, record)
-- KEYS[2] the group's offsets: hash "<topic>:<partition>" -> JSON
-- KEYS[3] set of group ids
-- ARGV[1] key prefix (per-topic group sets <prefix>offset-groups:<topic>)
-- ARGV[2] group id
-- Result: 'OK'; errors GROUP_ID_NOT_FOUND {}, ILLEGAL_GENERATION {members, deleting}.
local members = redis.call('HGET', KEYS[1], 'members')
if members then
  local count = #cjson.decode(members)
  if count > 0 then
    return fail('ILLEGAL_GENERATION', { members = str(count), deleting = '1' })
  end
elseif redis.call('EXISTS', KEYS[2]) == 0 then
  return fail('GROUP_ID_NOT_FOUND', {})
end
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  -- Topic names hold no ':', so the topic is everything before the last one.
  local topic = string.match(field, '^(.*):[0-9]+$')
  redis.call('SREM', ARGV[1] .. 'offset-groups:' .. topic, ARGV[2])
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return 'OK'
