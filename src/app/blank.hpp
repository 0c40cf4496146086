#pragma once
// Rails' String#blank?: empty, or only whitespace. Rails tests /\A[[:space:]]*\z/, and Ruby's
// [[:space:]] on a UTF-8 string is Unicode's White_Space: U+0009..U+000D, U+0020, U+0085,
// U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (listed by Ruby 3.1
// itself). A zero-width space (U+200B) is not whitespace there, so not here.
#include <string_view>

namespace cablecast::app {

// `text` is UTF-8 (identifiers arrive as validated JSON); a byte that starts no whitespace
// character makes it not blank.
bool blank(std::string_view text);

}  // namespace cablecast::app
