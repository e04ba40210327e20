-- Every topic, in one consistent read.
-- KEYS[1] set of topic names
-- ARGV[1] key prefix (topic hashes are <prefix>topic:<name>)
-- Result: flat array name, partitions, config JSON, createdAt, id ('' when none yet), name, ... (unsorted).
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local t = redis.call('HMGET', ARGV[1] .. 'topic:' .. name, 'partitions', 'config', 'createdAt', 'id')
  if t[1] then
    table.insert(out, name)
    table.insert(out, t[1])
    table.insert(out, t[2])
    table.insert(out, t[3])
    table.insert(out, t[4] or '')
  end
end
return out
