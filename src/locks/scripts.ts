/**
 * The lock decision as Redis Lua scripts, so it is atomic across every API process
 * and worker sharing the Redis. Key layout under a prefix P:
 *
 * - `P:same:<type>:<dry>`  hash  path → id of the unfinished task of that kind there
 * - `P:at:<path>`          set   ids of unfinished tasks on exactly that path
 * - `P:paths`              zset  every path with an unfinished task (score 0: ordered by
 *                                bytes, so the paths below X are one ZRANGEBYLEX range)
 * - `P:task:<id>`          hash  path, type, dry of an unfinished task
 * - `P:running:<id>`       string the attempt acting for the task now, if any, expiring
 *                                unless its worker refreshes it (see MARK_RUNNING_SCRIPT)
 * - `P:blockers:<id>`      set   ids of the overlapping tasks that were unfinished when
 *                                this one was claimed; it starts once they have all ended
 *
 * Every lookup is by key or by range, so the cost depends on the depth of the path and
 * on the number of overlapping tasks, never on the number of tasks recorded.
 * The scripts touch keys they compute, which standalone Redis and Sentinel allow; Redis
 * Cluster would need all keys in one hash slot (use a prefix with a `{hash tag}`).
 */

/**
 * KEYS[1] prefix. ARGV: path, type, dry ('0'|'1'), new id, then the path and all its
 * ancestors. Returns {0, existingId} or {1, newId, blockerCount}.
 *
 * The paths below `path` are the byte range `[path/, path0)`: the same "same path or inside
 * it" rule as isSameOrInside (src/paths) and TaskStore.list's SQL (src/store/index.ts);
 * test/paths/same-or-inside.test.ts holds the three equal.
 */
export const CLAIM_SCRIPT = `
local p, path, ttype, dry, id = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sameKey = p .. ':same:' .. ttype .. ':' .. dry
for i = 5, #ARGV do
  local existing = redis.call('HGET', sameKey, ARGV[i])
  if existing then return {0, existing} end
end
local blockersKey = p .. ':blockers:' .. id
local count = 0
local function block(atPath)
  for _, other in ipairs(redis.call('SMEMBERS', p .. ':at:' .. atPath)) do
    count = count + redis.call('SADD', blockersKey, other)
  end
end
for i = 5, #ARGV do block(ARGV[i]) end
local below = path == '/' and '/' or path .. '/'
for _, q in ipairs(redis.call('ZRANGEBYLEX', p .. ':paths', '[' .. below, '(' .. string.sub(below, 1, -2) .. '0')) do
  if q ~= path then block(q) end
end
redis.call('HSET', sameKey, path, id)
redis.call('SADD', p .. ':at:' .. path, id)
redis.call('ZADD', p .. ':paths', 0, path)
redis.call('HSET', p .. ':task:' .. id, 'path', path, 'type', ttype, 'dry', dry)
return {1, id, count}
`;

/** KEYS[1] prefix, ARGV[1] id. Returns 1 if the task held a claim, 0 otherwise. */
export const RELEASE_SCRIPT = `
local p, id = KEYS[1], ARGV[1]
local t = redis.call('HMGET', p .. ':task:' .. id, 'path', 'type', 'dry')
if not t[1] then return 0 end
local path = t[1]
local sameKey = p .. ':same:' .. t[2] .. ':' .. t[3]
if redis.call('HGET', sameKey, path) == id then redis.call('HDEL', sameKey, path) end
redis.call('SREM', p .. ':at:' .. path, id)
if redis.call('SCARD', p .. ':at:' .. path) == 0 then redis.call('ZREM', p .. ':paths', path) end
redis.call('DEL', p .. ':task:' .. id, p .. ':blockers:' .. id, p .. ':running:' .. id)
return 1
`;

/**
 * KEYS[1] prefix, ARGV[1] id. Returns -1 when the task holds no claim (released:
 * cancelled or cleaned up), else how many of its blockers are still unfinished.
 */
export const BLOCKERS_SCRIPT = `
local p, id = KEYS[1], ARGV[1]
if redis.call('EXISTS', p .. ':task:' .. id) == 0 then return -1 end
local key = p .. ':blockers:' .. id
for _, other in ipairs(redis.call('SMEMBERS', key)) do
  if redis.call('EXISTS', p .. ':task:' .. other) == 0 then redis.call('SREM', key, other) end
end
return redis.call('SCARD', key)
`;

/**
 * KEYS[1] prefix, ARGV[1] id, ARGV[2] attempt, ARGV[3] lifetime (ms). Records the attempt
 * now acting for a task that holds its claim. Returns 1, or 0 (recording nothing) if the
 * task holds no claim. A job can be offered again while an earlier attempt still runs (its
 * worker lost the job's lock while Redis was away): the new attempt waits until this
 * record is cleared, or has expired because its worker died and stopped refreshing it.
 */
export const MARK_RUNNING_SCRIPT = `
if redis.call('EXISTS', KEYS[1] .. ':task:' .. ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[1] .. ':running:' .. ARGV[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS[1] prefix, ARGV[1] id, ARGV[2] attempt, ARGV[3] lifetime (ms). Extends the record if it is still that attempt's; returns 1 if it was. */
export const REFRESH_RUNNING_SCRIPT = `
local key = KEYS[1] .. ':running:' .. ARGV[1]
if redis.call('GET', key) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', key, ARGV[3])
return 1
`;

/** KEYS[1] prefix, ARGV[1] id, ARGV[2] attempt. Clears the record if it is still that attempt's; returns 1 if it was. */
export const CLEAR_RUNNING_SCRIPT = `
local key = KEYS[1] .. ':running:' .. ARGV[1]
if redis.call('GET', key) ~= ARGV[2] then return 0 end
redis.call('DEL', key)
return 1
`;
