#include "app/blank.hpp"

#include <array>

namespace cablecast::app {

namespace {

// The UTF-8 encodings of the non-ASCII White_Space characters.
constexpr std::array<std::string_view, 18> kUnicodeSpaces = {
    "\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005",
    "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f"};
constexpr std::string_view kIdeographicSpace = "\u3000";

bool ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The length of the whitespace character at the start of `text`, 0 if there is none.
std::size_t space_at(std::string_view text) {
  if (ascii_space(text.front())) return 1;
  if (text.starts_with(kIdeographicSpace)) return kIdeographicSpace.size();
  for (std::string_view space : kUnicodeSpaces) {
    if (text.starts_with(space)) return space.size();
  }
  return 0;
}

}  // namespace

bool blank(std::string_view text) {
  while (!text.empty()) {
    std::size_t length = space_at(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

}  // namespace cablecast::app
