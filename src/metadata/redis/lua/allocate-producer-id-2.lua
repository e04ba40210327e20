-- Allocates the next producer id (1, 2, ...) with epoch 0.
-- KEYS[1] producer id counter (string)
-- KEYS[2] producer epochs: hash producer id -> epoch
-- ARGV: none
-- Result: the new producer id (integer).
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], str(id), '0')
return id
