#include "broker/redis_presence_scripts.hpp"

#include <hiredis/hiredis.h>

#include "pubsub/redis/redis_error.hpp"

namespace cablecast::broker::redis_presence {

using pubsub::redis::RedisError;

namespace {

// Shared by both scripts: the time, and removing one entry with the leave it may cause.
constexpr std::string_view kPrelude = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function remove_entry(prefix, stream, id, events)
  local sessions = prefix .. 'presence:sessions:' .. stream
  if redis.call('HINCRBY', sessions, id, -1) <= 0 then
    redis.call('HDEL', sessions, id)
    redis.call('HDEL', prefix .. 'presence:info:' .. stream, id)
    local n = #events
    events[n + 1] = 'leave'; events[n + 2] = stream; events[n + 3] = id; events[n + 4] = ''
  end
end
)lua";

constexpr std::string_view kUpdateBody = R"lua(
local prefix, ends = ARGV[1], now + tonumber(ARGV[2])
local events = {}
for i = 3, #ARGV, 5 do
  local kind, stream, id, sid, info = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local entry = #stream .. ':' .. stream .. #id .. ':' .. id .. sid
  local infos = prefix .. 'presence:info:' .. stream
  if kind == 'j' or kind == 'r' then
    if redis.call('ZADD', KEYS[1], ends, entry) == 1 then
      redis.call('HSET', infos, id, info)
      if redis.call('HINCRBY', prefix .. 'presence:sessions:' .. stream, id, 1) == 1 then
        local n = #events
        events[n + 1] = 'join'; events[n + 2] = stream; events[n + 3] = id; events[n + 4] = info
      end
    elseif kind == 'j' then
      redis.call('HSET', infos, id, info)
    end
  elseif kind == 'l' then
    if redis.call('ZREM', KEYS[1], entry) == 1 then remove_entry(prefix, stream, id, events) end
  elseif kind == 'e' then
    redis.call('ZADD', KEYS[1], 'XX', ends, entry)
  end
end
return events
)lua";

constexpr std::string_view kSweepBody = R"lua(
local prefix = ARGV[1]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local events = {}
for _, entry in ipairs(due) do
  redis.call('ZREM', KEYS[1], entry)
  local colon = string.find(entry, ':', 1, true)
  local stream_end = colon + tonumber(string.sub(entry, 1, colon - 1))
  local stream = string.sub(entry, colon + 1, stream_end)
  local id_colon = string.find(entry, ':', stream_end + 1, true)
  local id_length = tonumber(string.sub(entry, stream_end + 1, id_colon - 1))
  remove_entry(prefix, stream, string.sub(entry, id_colon + 1, id_colon + id_length), events)
end
table.insert(events, 1, #due)
return events
)lua";

std::string text_of(const redisReply* r) {
  return r->str ? std::string(r->str, r->len) : std::string();
}

}  // namespace

const std::string& update_script() {
  static const std::string script = std::string(kPrelude) + std::string(kUpdateBody);
  return script;
}

const std::string& sweep_script() {
  static const std::string script = std::string(kPrelude) + std::string(kSweepBody);
  return script;
}

boost::system::result<std::vector<PresenceEvent>> decode_events(const redisReply& reply,
                                                                std::size_t first) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < first ||
      (reply.elements - first) % 4 != 0) {
    return RedisError::server_error;
  }
  std::vector<PresenceEvent> events;
  events.reserve((reply.elements - first) / 4);
  for (std::size_t i = first; i < reply.elements; i += 4) {
    for (std::size_t k = 0; k < 4; ++k) {
      if (reply.element[i + k]->type != REDIS_REPLY_STRING) return RedisError::server_error;
    }
    const bool join = text_of(reply.element[i]) == "join";
    events.push_back({join ? PresenceEvent::Kind::join : PresenceEvent::Kind::leave,
                      text_of(reply.element[i + 1]),
                      {text_of(reply.element[i + 2]),
                       join ? text_of(reply.element[i + 3]) : std::string("null")}});
  }
  return events;
}

}  // namespace cablecast::broker::redis_presence
