// Decoding of AnyCable's history and presence objects, with what @anycable/core really sends in
// mind: `since` is `Date.now()/1000|0` (or `false` when the app turned timestamps off), stream
// positions are the numbers the server stamped, a presence id is String(id) of what the app gave.
#include "protocol/extension_fields.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/assert.hpp"

namespace cablecast::protocol {
namespace {

boost::system::result<boost::json::value> parse_value(std::string_view json, Error malformed) {
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(json, error, {}, options);
  if (error) return error == boost::json::error::too_deep ? Error::too_deep : malformed;
  return value;
}

// `since` in whole seconds. Absent, null and false mean "not asked" (0); a fraction is dropped,
// as JavaScript's `|0` would. Negative or beyond int64 is a malformed request.
std::optional<std::int64_t> since_seconds(const boost::json::value* since) {
  if (since == nullptr || since->is_null()) return 0;
  if (const auto* flag = since->if_bool()) {
    if (*flag) return std::nullopt;
    return 0;
  }
  if (const auto* whole = since->if_int64()) {
    if (*whole < 0) return std::nullopt;
    return *whole;
  }
  if (const auto* big = since->if_uint64()) {
    if (*big > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(*big);
  }
  if (const auto* real = since->if_double()) {
    // 2^63 as a double: every smaller non-negative double floors into an int64.
    constexpr double int64_end = 9223372036854775808.0;
    if (!(*real >= 0.0) || *real >= int64_end) return std::nullopt;
    return static_cast<std::int64_t>(std::floor(*real));
  }
  return std::nullopt;
}

// An offset as the server stamped it: a non-negative integer.
std::optional<std::uint64_t> offset_of(const boost::json::value* offset) {
  if (offset == nullptr) return std::nullopt;
  if (const auto* whole = offset->if_int64()) {
    if (*whole < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*whole);
  }
  if (const auto* big = offset->if_uint64()) return *big;
  return std::nullopt;
}

// The decimal text of a JSON number, as JavaScript's String(n) gives it for the integers an app
// uses as ids (42 -> "42", 42.0 -> "42"); other doubles get their shortest round-trip form.
std::string number_text(const boost::json::value& number) {
  std::array<char, 32> digits{};
  std::to_chars_result written{};
  if (const auto* whole = number.if_int64()) {
    written = std::to_chars(digits.data(), digits.data() + digits.size(), *whole);
  } else if (const auto* big = number.if_uint64()) {
    written = std::to_chars(digits.data(), digits.data() + digits.size(), *big);
  } else {
    const double real = number.get_double();
    constexpr double int64_end = 9223372036854775808.0;
    if (std::floor(real) == real && real > -int64_end && real < int64_end) {
      written = std::to_chars(digits.data(), digits.data() + digits.size(),
                              static_cast<std::int64_t>(real));
    } else {
      written = std::to_chars(digits.data(), digits.data() + digits.size(), real);
    }
  }
  CABLE_ASSERT(written.ec == std::errc{});  // 32 chars hold any int64, uint64 or double
  return std::string(digits.data(), written.ptr);
}

}  // namespace

boost::system::result<HistoryRequest> decode_history(std::string_view json) {
  auto value = parse_value(json, Error::bad_history);
  if (!value) return value.error();
  const auto* object = value->if_object();
  if (object == nullptr) return Error::bad_history;

  HistoryRequest request;
  const auto since = since_seconds(object->if_contains("since"));
  if (!since) return Error::bad_history;
  request.since = *since;

  const auto* streams = object->if_contains("streams");
  if (streams == nullptr || streams->is_null()) return request;
  const auto* positions = streams->if_object();
  if (positions == nullptr) return Error::bad_history;
  if (positions->size() > max_history_streams) return Error::over_limit;
  request.streams.reserve(positions->size());
  for (const auto& [name, position_value] : *positions) {
    if (name.size() > max_stream_name_bytes) return Error::over_limit;
    const auto* position = position_value.if_object();
    if (position == nullptr) return Error::bad_history;
    const auto* epoch = position->if_contains("epoch");
    if (epoch == nullptr || !epoch->is_string() || epoch->get_string().empty()) {
      return Error::bad_history;
    }
    if (epoch->get_string().size() > max_epoch_bytes) return Error::over_limit;
    const auto offset = offset_of(position->if_contains("offset"));
    if (!offset) return Error::bad_history;
    request.streams.emplace_back(std::string(name),
                                 StreamPosition{std::string(epoch->get_string()), *offset});
  }
  return request;
}

boost::system::result<PresenceRequest> decode_presence(std::string_view json) {
  auto value = parse_value(json, Error::bad_presence);
  if (!value) return value.error();
  const auto* object = value->if_object();
  if (object == nullptr) return Error::bad_presence;

  PresenceRequest request;
  const auto* id = object->if_contains("id");
  if (id == nullptr) return Error::bad_presence;
  if (const auto* text = id->if_string()) {
    if (text->size() > max_presence_id_bytes) return Error::over_limit;
    request.id = std::string(*text);
  } else if (id->is_number()) {
    request.id = number_text(*id);
  } else {
    return Error::bad_presence;
  }
  // Members are told apart by id alone: an empty one would merge everyone who sent none.
  if (request.id.empty()) return Error::bad_presence;

  if (const auto* info = object->if_contains("info")) {
    request.info = boost::json::serialize(*info);
    if (request.info.size() > max_presence_info_bytes) return Error::over_limit;
  }
  return request;
}

}  // namespace cablecast::protocol
