//! The Lua scripts: each step that reads and writes several keys of one
//! Cluster slot, atomically.

use std::sync::LazyLock;

use ::redis;

/// Creates the counter with its window in the same step; also repairs a
/// counter someone else left without a TTL.
pub(super) static INCR: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local value = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {value, ttl}
",
    )
});

/// DECR keeps the TTL; the guard keeps a missing key missing and a counter
/// from going below zero.
pub(super) static DECR: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if not current then
  return 0
end
local n = tonumber(current)
if not n then
  return redis.error_reply('ERR value is not a counter')
end
if n > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
",
    )
});

/// KEYS: code, tries. ARGV: typed code, max wrong checks.
/// Returns {0, 0} missing, {1, 0} accepted, {2, attempts_left} rejected.
///
/// The comparison runs over every byte instead of Lua's `==`, so its time
/// does not depend on how much of the code was right. The tries key lives
/// as long as the code; a code without a TTL (written by someone else)
/// gets its tries key a day, so nothing here lives forever.
pub(super) static CHECK_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local stored = redis.call('GET', KEYS[1])
if not stored then
  redis.call('DEL', KEYS[2])
  return {0, 0}
end
local typed = ARGV[1]
local same = #stored == #typed
local diff = 0
for i = 1, math.min(#stored, #typed) do
  diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(typed, i)))
end
if same and diff == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {1, 0}
end
local wrong = redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = 86400000
end
redis.call('PEXPIRE', KEYS[2], ttl)
local max = tonumber(ARGV[2])
if wrong >= max then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {2, 0}
end
return {2, max - wrong}
",
    )
});

/// KEYS: code, tries, interval flag, daily count. ARGV: code, code TTL
/// ms, interval ms (0: off), daily cap (0: off), daily window ms.
/// Returns {0, 0} stored, {1, ms left} interval held, {2, ms left} daily cap
/// reached.
///
/// Every check comes before the first write, so a refusal changes nothing
/// (beyond giving a TTL to a flag or counter someone else left without one:
/// nothing here lives forever). The counter is read and compared rather
/// than counted and given back: the same outcome, one write fewer; a new
/// one is written with its window in one `SET`.
pub(super) static ISSUE_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local interval_on = tonumber(ARGV[3]) > 0
if interval_on then
  local left = redis.call('PTTL', KEYS[3])
  if left == -1 then
    redis.call('PEXPIRE', KEYS[3], ARGV[3])
    left = tonumber(ARGV[3])
  end
  if left ~= -2 then
    return {1, left}
  end
end
local cap = tonumber(ARGV[4])
local current = false
if cap > 0 then
  current = redis.call('GET', KEYS[4])
  if current then
    local count = tonumber(current)
    if not count then
      return redis.error_reply('ERR value is not a counter')
    end
    local left = redis.call('PTTL', KEYS[4])
    if left == -1 then
      redis.call('PEXPIRE', KEYS[4], ARGV[5])
      left = tonumber(ARGV[5])
    end
    if count >= cap then
      return {2, left}
    end
  end
end
if interval_on then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
end
if current then
  redis.call('INCR', KEYS[4])
elseif cap > 0 then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[5])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return {0, 0}
",
    )
});

/// KEYS: code, tries, interval flag, daily count. The counter is checked
/// before anything is deleted, so an error changes nothing; DECR keeps its
/// TTL, and a missing counter stays missing.
pub(super) static REVOKE_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local current = redis.call('GET', KEYS[4])
local count = nil
if current then
  count = tonumber(current)
  if not count then
    return redis.error_reply('ERR value is not a counter')
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if count and count > 0 then
  redis.call('DECR', KEYS[4])
end
return 0
",
    )
});

/// KEYS: a group of per-IP buckets (a hash). ARGV: the bucket, window ms.
/// Returns {count, ms left}. The group is created with its window in the
/// same step (and one someone else left without a TTL gets one).
pub(super) static IP_INCR: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local value = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {value, ttl}
",
    )
});

/// KEYS: the per-IP buckets' secret. ARGV: a new secret, TTL ms.
/// Returns the stored secret, storing the new one when there is none, and
/// renews its TTL: whichever instance comes first sets it for all.
pub(super) static IP_SECRET: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local secret = redis.call('GET', KEYS[1])
if not secret then
  secret = ARGV[1]
  redis.call('SET', KEYS[1], secret, 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return secret
",
    )
});
