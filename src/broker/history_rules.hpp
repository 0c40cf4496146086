#pragma once
// What every History store decides the same way, whatever holds the entries: when a position
// can be answered, and how a new epoch is named.
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/history.hpp"

namespace cablecast::broker {

// `length` random characters of [A-Za-z0-9_-] from OpenSSL's CSPRNG: safe inside a JSON string
// and a Redis key without escaping.
std::string random_token(std::size_t length);

// A new epoch: 8 random characters (48 bits), so two generations of a stream (or the same stream
// on two nodes with memory history) practically never share one.
inline std::string new_epoch() { return random_token(8); }

// Whether history_from(after) can be answered from a stream whose epoch is `epoch`, whose last
// offset is `last_offset`, and whose first kept entry after `after.offset` has offset
// `first_kept_after` (0 when none is kept). Success means: the kept entries with offset >
// after.offset are exactly what the client missed (none when it saw everything).
boost::system::error_code check_from(std::string_view epoch, std::uint64_t last_offset,
                                     std::uint64_t first_kept_after, const Position& after);

}  // namespace cablecast::broker
