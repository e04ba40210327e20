-- Helpers shared by every StreamHouse metadata script; scriptLoader.ts puts
-- this text in front of each script before defining it.
--
-- Numbers: Lua numbers are doubles, exact for integers up to 2^53, which is
-- all StreamHouse uses. But Lua turns a number into text with "%.14g", which
-- loses digits beyond 14, so every number handed to redis.call or put into an
-- error goes through str() first.

-- A number as its exact decimal text.
local function str(n)
  return string.format('%d', n)
end

-- An error reply "<CODE> <json>", read by replyErrors.ts. Every field value
-- is a string so that cjson never rounds a number.
local function fail(code, fields)
  return redis.error_reply(code .. ' ' .. cjson.encode(fields))
end

-- A hash as a Lua table, or nil when the key does not exist.
local function load_hash(key)
  local raw = redis.call('HGETALL', key)
  if #raw == 0 then
    return nil
  end
  local t = {}
  for i = 1, #raw, 2 do
    t[raw[i]] = raw[i + 1]
  end
  return t
end

-- The lease fields of a partition hash, for an error reply.
local function lease_fields(part, reason, now)
  return { reason = reason, epoch = part.epoch, holder = part.holder or '', expiresAt = part.expiresAt, now = str(now) }
end

-- Why a write under `epoch` at `now` must be refused, or nil (leaseRules.ts: writeFenceReason).
local function write_fence(part, epoch, now)
  if epoch ~= tonumber(part.epoch) then
    return 'epoch'
  end
  if part.holder == nil then
    return 'released'
  end
  if now > tonumber(part.expiresAt) then
    return 'expired'
  end
  return nil
end

-- Why renewing or releasing `agent`'s lease under `epoch` must be refused, or nil (leaseRules.ts: renewFenceReason).
local function renew_fence(part, epoch, agent)
  if epoch ~= tonumber(part.epoch) then
    return 'epoch'
  end
  if part.holder == nil then
    return 'released'
  end
  if part.holder ~= agent then
    return 'holder'
  end
  return nil
end
