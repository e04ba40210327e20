-- Records a heartbeat of a registered agent.
-- KEYS[1] agents: hash agent id -> {address, startedAt} JSON
-- KEYS[2] agent heartbeats: hash agent id -> last heartbeat, ms
-- ARGV[1] agent id
-- ARGV[2] now, ms
-- Result: 'OK'; error INVALID_REQUEST {reason = 'unknown-agent'}.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return fail('INVALID_REQUEST', { reason = 'unknown-agent' })
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 'OK'
