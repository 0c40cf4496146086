#include "wire_text.hpp"

namespace cablecast::limit {

std::string json_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string_view header_value(std::string_view head, std::string_view lower,
                              std::string_view name) {
  const std::size_t at = lower.find(name);
  if (at == std::string_view::npos || at < 2 || lower.substr(at - 2, 2) != "\r\n") return {};
  const std::size_t start = at + name.size();
  std::string_view value = head.substr(start, head.find("\r\n", start) - start);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

bool trigger_data(std::string_view text, std::string& out) {
  constexpr std::string_view kKey = R"("data":")";
  if (!text.starts_with(R"({"command":"message")")) return false;
  const std::size_t at = text.find(kKey);
  if (at == std::string_view::npos) return false;
  out.clear();
  for (std::size_t i = at + kKey.size(); i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') return text.substr(i + 1) == "}";
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == text.size()) return false;
    if (text[i] != '"' && text[i] != '\\' && text[i] != '/') return false;  // not the generator's
    out.push_back(text[i]);
  }
  return false;
}

}  // namespace cablecast::limit
