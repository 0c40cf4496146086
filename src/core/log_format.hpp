#pragma once
// How one log line is written, as text or as JSON (docs/logging.md). Pure functions, so the
// rendering is tested without a logger; LineFormatter plugs them into spdlog.
#include <spdlog/formatter.h>

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace cablecast::log {

// Everything one line says.
struct LineRecord {
  std::chrono::system_clock::time_point time;
  spdlog::level::level_enum level = spdlog::level::info;
  std::string_view message;
  ConnectionId connection;        // none: the line is not about a connection
  std::span<const Field> fields;  // from log::event, empty for plain CC_LOG_* lines
};

// Control characters as \n, \r, \t or \xNN (clip() without the cut): text lines stay one line
// whatever they quote.
void append_escaped(std::string& out, std::string_view text);

// One line, newline included.
//   text: 2026-12-06T16:28:43.123Z info  [conn=0-3] message key=value key="two words"
//   json: {"time":"2026-12-06T16:28:43.123Z","level":"info","conn":"0-3","message":"…","key":…}
// Whatever the message and values hold (control characters, quotes, invalid UTF-8), the line
// stays one line, and in JSON one valid JSON object.
std::string render_line(Format format, const LineRecord& record);

// RFC 3339 in UTC with milliseconds: 2026-12-06T16:28:43.123Z
std::string rfc3339(std::chrono::system_clock::time_point time);

// The spdlog formatter of the shared logger: the fields and connection come from the calling
// thread (set by log::event and ConnectionScope), which is the one formatting (sync logger).
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  Format format_;
};

}  // namespace cablecast::log
