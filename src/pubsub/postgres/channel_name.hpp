#pragma once
// How a broadcasting name becomes a PostgreSQL NOTIFY/LISTEN channel, exactly as Rails'
// postgresql adapter names it, so a Rails app and Cablecast nodes meet on the same channel:
//   1. ChannelPrefix: [channel_prefix, broadcasting].compact.join(":")
//   2. channel_identifier: names longer than 63 bytes become their SHA1 in lowercase hex, since
//      PostgreSQL silently truncates identifiers to NAMEDATALEN - 1 = 63 bytes (two long names
//      sharing a 63-byte head would otherwise meet on one channel).
// Rule choice: we compare the *byte* size (Rails main and 8.0-stable). Rails 6.1 to 8.0.x compare
// the *character* count, so a multibyte name of at most 63 characters but more than 63 bytes is
// hashed by us and truncated by those Rails versions; ASCII names (the usual case: model GIDs,
// "chat_1") are named identically by every version.
#include <string>
#include <string_view>

namespace cablecast::pubsub::postgres {

// NAMEDATALEN - 1: the longest identifier PostgreSQL keeps intact.
inline constexpr std::size_t kMaxIdentifierBytes = 63;

// Rails' ChannelPrefix. An empty prefix means "no channel_prefix in cable.yml" (Ruby's nil,
// which compact drops), so no leading ':' is added.
std::string prefixed_channel(std::string_view prefix, std::string_view broadcasting);

// Rails' channel_identifier: `name` as is, or SHA1(name) in 40 lowercase hex digits when it is
// longer than 63 bytes.
std::string channel_identifier(std::string_view name);

// Both steps: the channel a broadcasting travels on.
std::string channel_for(std::string_view prefix, std::string_view broadcasting);

// PG::Connection#escape_identifier / PQescapeIdentifier: wrapped in double quotes, inner double
// quotes doubled. Used to build LISTEN/UNLISTEN, which take no bind parameters.
std::string quote_identifier(std::string_view name);

}  // namespace cablecast::pubsub::postgres
