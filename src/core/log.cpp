#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

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

std::string_view clip(std::string_view text, std::size_t max) {
  return text.size() <= max ? text : text.substr(0, max);
}

}  // namespace cablecast::log
