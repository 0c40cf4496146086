#include "ws/utf8.hpp"

#include <simdjson.h>

namespace cablecast::ws {

// simdjson's validator is a full RFC 3629 check (overlongs, surrogates and code points above
// U+10FFFF are rejected) and runs at several GB/s, so text frames cost next to nothing to check.
bool is_valid_utf8(std::string_view text) noexcept {
  return simdjson::validate_utf8(text.data(), text.size());
}

}  // namespace cablecast::ws
