#pragma once
// The Lua scripts behind RedisPresence, and the decoding of what they return. Each script runs
// atomically in Redis, so whichever node runs it, an id gains its first session (join) or loses
// its last one (leave) in exactly one script run, and only that run reports the event.
//
// Keys, under the prefix P (default "cablecast:"):
//   P presence:entries         ZSET of every session of every stream, member
//                              "<#stream>:<stream><#id>:<id><sid>" (lengths in bytes, so any
//                              bytes are safe in names), score = when it ends (Redis TIME, ms)
//   P presence:sessions:<stream>  HASH id -> number of its entries
//   P presence:info:<stream>      HASH id -> info JSON (the latest join's)
// Live sessions are refreshed by their node (score = now + ttl every ttl/3); one the node
// expire()d, or whose node died, keeps its last score and is removed by the sweep once due. One
// sorted set for all streams keeps the sweep at O(log n + due) whatever the number of streams.
// Times come from Redis, so the nodes' clocks do not matter.
#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "broker/presence.hpp"

struct redisReply;

namespace cablecast::broker::redis_presence {

// KEYS[1] = P presence:entries; ARGV = P, ttl in ms, then 5 per change: kind, stream, id, sid,
// info. Kinds: "j" join (info replaced), "r" refresh (info set only if the entry was gone, e.g.
// swept while Redis was unreachable), "l" leave (at once), "e" expire (ends after the ttl).
// Returns the events, 4 strings each: "join"|"leave", stream, id, info ("" for leave).
const std::string& update_script();

// KEYS[1] = P presence:entries; ARGV = P, the most entries to remove in this run.
// Returns the number of entries removed, then the leave events as update_script() does.
const std::string& sweep_script();

// One change for update_script().
struct Change {
  char kind;  // 'j', 'r', 'l', 'e'
  std::string stream;
  std::string id;
  std::string sid;
  std::string info;  // join and refresh only
};

// The events in a script's reply, from `first` on (sweep_script(): 1). An error reply, or one not
// shaped as the scripts answer, is an error.
boost::system::result<std::vector<PresenceEvent>> decode_events(const redisReply& reply,
                                                                std::size_t first);

}  // namespace cablecast::broker::redis_presence
