-- Increments an allocated producer's epoch.
-- KEYS[1] producer epochs: hash producer id -> epoch
-- ARGV[1] producer id
-- ARGV[2] largest epoch allowed (the batch header holds an int16)
-- Result: the new epoch (integer); errors UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH.
local epoch = redis.call('HGET', KEYS[1], ARGV[1])
if not epoch then
  return fail('UNKNOWN_PRODUCER_ID', {})
end
if tonumber(epoch) >= tonumber(ARGV[2]) then
  return fail('INVALID_PRODUCER_EPOCH', {})
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
