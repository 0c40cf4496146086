#pragma once
// What RedisHistory keeps in Redis and the two Lua scripts that touch it.
//
// Per stream, two keys (both expire `ttl` after the stream's last message):
//   <key prefix>history:meta:<stream>  hash {epoch, offset}: the generation and the last offset
//   <key prefix>history:log:<stream>   Redis Stream, entry id "<offset>-0", fields time
//                                      (UNIX seconds, Redis' clock) and message
// ("meta:" and "log:" differ in their first byte, so no stream name makes two keys collide.)
//
// The append script numbers, stores, trims (exact MAXLEN, then by age) and PUBLISHes in one
// step, so the order of offsets is the order in which every node receives the messages.
#include <cstdint>
#include <string>
#include <string_view>

#include "broadcast/publication.hpp"

namespace cablecast::broker::redis_history {

// KEYS: meta, log. ARGV: channel, message, envelope head, limit, ttl, epoch for a new record.
// Returns the offset.
extern const std::string_view kAppendScript;
// KEYS: meta, log. ARGV: first entry id, since (UNIX s), ttl. Returns {} for an unknown stream,
// else {epoch, last offset, then id, time, message of each kept entry from the first id on,
// stored at or after `since`}.
extern const std::string_view kQueryScript;

// Lower-case hex SHA1 of a script: its name for EVALSHA.
std::string script_sha1(std::string_view script);

std::string meta_key(std::string_view key_prefix, std::string_view stream);
std::string log_key(std::string_view key_prefix, std::string_view stream);

// The meta JSON (broadcast/envelope.hpp) up to where the script adds the position: "{" plus
// `"exclude_socket":…,"broadcast_type":…,` when set. The script completes it with
// `"offset":N,"epoch":"E"}`, hides it in whitespace and appends the message: the bytes equal
// broadcast::wrap of the meta with that position.
std::string envelope_head(const broadcast::Meta& meta);

}  // namespace cablecast::broker::redis_history
