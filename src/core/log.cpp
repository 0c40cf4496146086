#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/line_budget.hpp"

namespace cablecast::log {

spdlog::logger& get() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("cablecast");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%t] %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *logger;
}

bool set_level(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (parsed == spdlog::level::off && level != "off") return false;
  get().set_level(parsed);
  return true;
}

bool LineBudget::allow() {
  const std::uint32_t n = count_;
  if (count_ != UINT32_MAX) ++count_;
  if (n < kFree) return true;
  if (n == kFree) {
    get().warn("this connection keeps sending bad input: logging 1 line in {} of it from now on",
               kOneIn);
  }
  return (n - kFree) % kOneIn == kOneIn - 1;
}

std::string clip(std::string_view text, std::size_t max) {
  const bool cut = text.size() > max;
  if (cut) text = text.substr(0, max);
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7F) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace cablecast::log
