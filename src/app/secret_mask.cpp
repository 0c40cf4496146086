#include "app/secret_mask.hpp"

namespace cablecast::app {

namespace {

constexpr std::string_view kMask = "****";

// scheme://user:password@host...: the password ends at the last '@' of the authority.
std::string mask_url_user_info(std::string_view value) {
  const auto scheme_end = value.find("://");
  if (scheme_end == std::string_view::npos) return std::string(value);
  const auto authority_begin = scheme_end + 3;
  auto authority_end = value.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = value.size();
  const auto at = value.rfind('@', authority_end - 1);
  if (at == std::string_view::npos || at < authority_begin) return std::string(value);
  const auto colon = value.find(':', authority_begin);
  if (colon == std::string_view::npos || colon > at) return std::string(value);
  std::string out(value.substr(0, colon + 1));
  out += kMask;
  out += value.substr(at);
  return out;
}

// password=secret, password = 'sec ret' (libpq conninfo), ?password=secret&... (URI query).
std::string mask_password_keywords(std::string value) {
  static constexpr std::string_view kKey = "password";
  std::size_t from = 0;
  while ((from = value.find(kKey, from)) != std::string::npos) {
    std::size_t i = from + kKey.size();
    // A whole keyword: not "mypassword" nor "password_file".
    const bool starts_word = from == 0 || value[from - 1] == ' ' || value[from - 1] == '?' ||
                             value[from - 1] == '&' || value[from - 1] == '\t';
    while (i < value.size() && value[i] == ' ') ++i;
    if (!starts_word || i >= value.size() || value[i] != '=') {
      from += kKey.size();
      continue;
    }
    ++i;
    while (i < value.size() && value[i] == ' ') ++i;
    std::size_t end = i;
    if (end < value.size() && value[end] == '\'') {  // quoted, with \' and \\ escapes
      ++end;
      while (end < value.size() && value[end] != '\'') end += value[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, value.size());
    } else {
      while (end < value.size() && value[end] != ' ' && value[end] != '&' && value[end] != '\t') {
        ++end;
      }
    }
    value.replace(i, end - i, kMask);
    from = i + kMask.size();
  }
  return value;
}

}  // namespace

std::string masked_secret(std::string_view value) {
  return value.empty() ? std::string() : std::string(kMask);
}

std::string mask_passwords(std::string_view value) {
  return mask_password_keywords(mask_url_user_info(value));
}

}  // namespace cablecast::app
