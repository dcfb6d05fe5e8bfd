// The Lua scripts of the Redis store: each runs atomically on the server (no other command in
// between), which is where atomicity is needed across keys. Times are epoch ms from the exporter's
// clock, passed in as arguments, so expiry that the ports promise (dedup TTL, tombstone TTL, lease
// TTL) follows the injected clock (tests move it); the keys' own PX TTLs are real time and only make
// sure that nothing is left behind for ever. Numbers that Lua would print in exponent form (epoch ms)
// are formatted in TypeScript and passed as strings.
//
// Key layout (P = STORE_KEY_PREFIX):
//   P claim:<event id>   string  "p:<replica>:<unit>" while the unit is in flight (PX pendingClaimMs),
//                                "d:<expiresAt>" once committed (PX dedup TTL)
//   P call:<CallSid>     hash    v = version, r = record JSON, x = tombstone expiry (finalised calls)
//   P calls:idle         zset    pending calls by lastActivityAt (the idle sweep, the capacity bound)
//   P calls:tombs        zset    tombstones by expiry (compaction)
//   P outbox:seq         string  last outbox sequence number
//   P outbox:idx         zset    outbox entries by seq;  P outbox:data hash seq -> entry JSON;
//   P outbox:n           hash    seq -> span count;      P outbox:spans string: spans in the outbox
//   P lease:<name>       string  "<expiresAt>|<holder>"
//   P dedup:n:<minute>   string  claims committed in that minute (the dedup-id count)
//   P replica:<id>       string  heartbeat of a live replica (PX a few seconds)
// The scripts touch only the keys of one deployment; two of them (idle, compact) build call keys from
// the prefix they are given, which standalone Redis and Valkey allow (Redis Cluster is not supported).
import { script } from './connection.js';

/**
 * KEYS: claim keys. ARGV: owner token, pending PX, now.
 * Per key: 1 = claimed now, 0 = a duplicate (committed and unexpired, or already this unit's), or the
 * token of the unit in flight that holds it.
 */
export const CLAIM = script(
  'claim',
  `
local out = {}
local now = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  local free = not v
  if v and string.sub(v, 1, 2) == 'd:' and tonumber(string.sub(v, 3)) <= now then free = true end
  if free then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  elseif string.sub(v, 1, 2) == 'd:' or v == ARGV[1] then
    out[i] = 0
  else
    out[i] = v
  end
end
return out
`,
);

/** KEYS[1]: a claim key. ARGV: the token of a dead holder, the new token, pending PX. 1 if taken over. */
export const TAKE_OVER = script(
  'take-over',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`,
);

/**
 * KEYS: the unit's claim keys, then the dedup count key of this minute. ARGV: owner token, committed
 * value ("d:<expiresAt>"), its PX, the count key's PX.
 * All or nothing: if any claim is no longer this unit's (it outlived its PX and another unit took it),
 * nothing changes and the 1-based index of that claim comes back negated. Else the number committed.
 */
export const COMMIT = script(
  'commit',
  `
local n = #KEYS - 1
for i = 1, n do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then return -i end
end
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3])
end
redis.call('INCRBY', KEYS[n + 1], n)
redis.call('PEXPIRE', KEYS[n + 1], ARGV[4])
return n
`,
);

/** KEYS: claim keys. ARGV[1]: owner token. Deletes those still held by that unit (compare and delete). */
export const RELEASE = script(
  'release',
  `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
`,
);

/**
 * One call's record and, in the same step, its outbox entry (compare-and-set on the record's version).
 * KEYS: call, calls:idle, calls:tombs, outbox:seq, outbox:idx, outbox:data, outbox:n, outbox:spans.
 * ARGV: [1] expected version, [2] mode: keep | pending | finalised, [3] record JSON, [4] index score
 * (lastActivityAt for pending, tombstone expiry for finalised), [5] the call key's PX, [6] the index's
 * PX, [7] CallSid, [8] outbox entry JSON or '', [9] its span count, [10] the outbox keys' PX.
 * Returns {1, seq} (seq 0 without an outbox entry), or {0, version now} when the record changed since
 * it was read: the caller reads it again and runs its pure update function again.
 */
export const UPDATE = script(
  'update',
  `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return {0, v} end
if ARGV[2] == 'pending' then
  redis.call('HSET', KEYS[1], 'v', v + 1, 'r', ARGV[3])
  redis.call('HDEL', KEYS[1], 'x')
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('ZREM', KEYS[3], ARGV[7])
elseif ARGV[2] == 'finalised' then
  redis.call('HSET', KEYS[1], 'v', v + 1, 'r', ARGV[3], 'x', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[7])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
local seq = 0
if ARGV[8] ~= '' then
  seq = redis.call('INCR', KEYS[4])
  -- Sequence numbers only grow, even if the counter key was lost while entries remained.
  local top = redis.call('ZRANGE', KEYS[5], -1, -1, 'WITHSCORES')
  if top[2] and tonumber(top[2]) >= seq then
    seq = tonumber(top[2]) + 1
    redis.call('SET', KEYS[4], seq)
  end
  redis.call('HSET', KEYS[6], seq, ARGV[8])
  redis.call('HSET', KEYS[7], seq, ARGV[9])
  redis.call('ZADD', KEYS[5], seq, seq)
  redis.call('INCRBY', KEYS[8], ARGV[9])
  for i = 4, 8 do redis.call('PEXPIRE', KEYS[i], ARGV[10]) end
end
return {1, seq}
`,
);

/**
 * KEYS[1]: calls:idle. ARGV: before (exclusive), limit, call key prefix.
 * Pending calls idle since before `before`, least recently active first; index entries whose call key
 * is gone (expired while no replica ran) are dropped on the way, so they never block the sweep.
 */
export const IDLE = script(
  'idle',
  `
local out = {}
local limit = tonumber(ARGV[2])
for round = 1, 20 do
  local sids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', #out, limit)
  local dropped = 0
  for _, sid in ipairs(sids) do
    if redis.call('EXISTS', ARGV[3] .. sid) == 1 then
      table.insert(out, sid)
      if #out >= limit then return out end
    else
      redis.call('ZREM', KEYS[1], sid)
      dropped = dropped + 1
    end
  end
  if dropped == 0 or #sids < limit then return out end
end
return out
`,
);

/**
 * KEYS[1]: calls:tombs. ARGV: now, limit, call key prefix. Deletes tombstones past their expiry (the
 * keys' PX would too, in real time); returns how many went.
 */
export const COMPACT = script(
  'compact',
  `
local now = tonumber(ARGV[1])
local sids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local removed = 0
for _, sid in ipairs(sids) do
  local key = ARGV[3] .. sid
  local x = redis.call('HGET', key, 'x')
  if x and tonumber(x) <= now then
    redis.call('DEL', key)
    removed = removed + 1
  end
  redis.call('ZREM', KEYS[1], sid)
end
return removed
`,
);

/**
 * KEYS: outbox:idx, outbox:data, outbox:n. ARGV: after seq (exclusive), max spans.
 * Oldest entries first, until one more would pass max spans (at least one): {seq, json, seq, json, ...}.
 */
export const PEEK = script(
  'peek',
  `
local max = tonumber(ARGV[2])
local seqs = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, math.max(1, max))
local out = {}
local total = 0
for _, seq in ipairs(seqs) do
  local n = tonumber(redis.call('HGET', KEYS[3], seq) or '0')
  if #out > 0 and total + n > max then break end
  local data = redis.call('HGET', KEYS[2], seq)
  if data then
    table.insert(out, seq)
    table.insert(out, data)
    total = total + n
  end
end
return out
`,
);

/** KEYS: outbox:idx, outbox:data, outbox:n, outbox:spans. ARGV: seqs. Returns the spans deleted. */
export const ACK = script(
  'ack',
  `
local spans = 0
for _, seq in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], seq) == 1 then
    local n = tonumber(redis.call('HGET', KEYS[3], seq) or '0')
    redis.call('HDEL', KEYS[2], seq)
    redis.call('HDEL', KEYS[3], seq)
    redis.call('DECRBY', KEYS[4], n)
    spans = spans + n
  end
end
return spans
`,
);

/** KEYS[1]: lease key. ARGV: holder, now, PX, new value "<expiresAt>|<holder>". 1 if held by `holder` now. */
export const ACQUIRE = script(
  'acquire',
  `
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, '|', 1, true)
  if string.sub(v, sep + 1) ~= ARGV[1] and tonumber(string.sub(v, 1, sep - 1)) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
return 1
`,
);

/** KEYS[1]: lease key. ARGV[1]: holder. Deletes the lease if that holder has it. */
export const RELEASE_LEASE = script(
  'release-lease',
  `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, string.find(v, '|', 1, true) + 1) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);
