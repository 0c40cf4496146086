#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/line_budget.hpp"
#include "core/log_format.hpp"

namespace cablecast::log {

namespace detail {
extern thread_local std::span<const Field> pending_fields;  // log_format.cpp
}  // namespace detail

namespace {
thread_local ConnectionId current;
}  // namespace

spdlog::logger& get() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("cablecast");
    l->set_formatter(std::make_unique<LineFormatter>(Format::text));
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

bool set_format(std::string_view format) {
  if (format != "text" && format != "json") return false;
  get().set_formatter(
      std::make_unique<LineFormatter>(format == "json" ? Format::json : Format::text));
  return true;
}

std::string ConnectionId::to_string() const { return fmt::format("{}-{}", loop, seq); }

ConnectionScope::ConnectionScope(ConnectionId id) noexcept : previous_(current) { current = id; }
ConnectionScope::~ConnectionScope() { current = previous_; }
ConnectionId current_connection() noexcept { return current; }

void event(spdlog::level::level_enum level, std::string_view message,
           std::initializer_list<Field> fields) {
  auto& logger = get();
  if (!logger.should_log(level)) return;
  detail::pending_fields = std::span<const Field>(fields.begin(), fields.size());
  logger.log(level, spdlog::string_view_t(message.data(), message.size()));
  detail::pending_fields = {};
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
  append_escaped(out, text);
  if (cut) out += "...";
  return out;
}

}  // namespace cablecast::log
