#include <cablecast/detail/channel_class.hpp>
#include <cctype>

namespace cablecast::detail {

// Mirrors Rails: `name.delete_suffix("Channel").gsub("::", ":").underscore`, where underscore
// puts "_" between a lower-case letter or digit and an upper-case one, and inside runs of
// capitals before the last capital followed by a lower-case letter ("HTMLParser" ->
// "html_parser").
std::string rails_channel_name(std::string_view class_name) {
  constexpr std::string_view suffix = "Channel";
  if (class_name.size() > suffix.size() && class_name.ends_with(suffix)) {
    class_name.remove_suffix(suffix.size());
  }
  std::string out;
  out.reserve(class_name.size() + 8);
  auto upper = [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; };
  auto lower_or_digit = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  for (std::size_t i = 0; i < class_name.size(); ++i) {
    char c = class_name[i];
    if (c == ':' && i + 1 < class_name.size() && class_name[i + 1] == ':') {
      out += ':';
      ++i;
      continue;
    }
    if (upper(c) && i > 0) {
      char prev = class_name[i - 1];
      bool next_lower =
          i + 1 < class_name.size() && std::islower(static_cast<unsigned char>(class_name[i + 1]));
      if (lower_or_digit(prev) || (upper(prev) && next_lower)) out += '_';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace cablecast::detail
