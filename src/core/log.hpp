#pragma once
// One logger for the whole server. Modules log through it so that `--log-level` and
// `--log-format` govern all. Every line is rendered by log_format.cpp, as text or as one JSON
// object per line, and carries the id of the connection it is about when the caller is inside
// a ConnectionScope (docs/logging.md).
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace cablecast::log {

// The shared logger ("cablecast"), created on first use, writing to stderr.
spdlog::logger& get();

// Accepts trace, debug, info, warn, error, critical, off. Returns false for anything else.
bool set_level(std::string_view level);

enum class Format : std::uint8_t { text, json };
// Accepts "text" and "json". Returns false for anything else.
bool set_format(std::string_view format);

// Makes client-controlled text safe for one log line: at most `max` bytes (a hostile client
// cannot fill the log with one huge frame) and control characters escaped (\n, \r, \t, \xNN),
// so a newline in a frame cannot forge a line of its own.
std::string clip(std::string_view text, std::size_t max = 300);

// A connection's id in logs: the index of its event loop and its number on that loop, shown
// as "<loop>-<seq>". Cheap to make at accept (a per-loop counter, no lock); seq 0 means none.
struct ConnectionId {
  std::uint32_t loop = 0;
  std::uint32_t seq = 0;
  explicit operator bool() const { return seq != 0; }
  std::string to_string() const;
};

// While alive, every line logged by this thread is about `id` (restores the previous one on
// exit, so scopes nest). Connections open one around each of their event handlers, so the
// layers above (session, channels, RPC) carry the id without passing it along. Two
// thread-local stores: no allocation, no virtual call.
class ConnectionScope {
 public:
  explicit ConnectionScope(ConnectionId id) noexcept;
  ~ConnectionScope();
  ConnectionScope(const ConnectionScope&) = delete;
  ConnectionScope& operator=(const ConnectionScope&) = delete;

 private:
  ConnectionId previous_;
};
// The connection the current thread is logging about (none outside a ConnectionScope).
ConnectionId current_connection() noexcept;

// One field of a structured event: a key and a string, integer or boolean value. Shown as
// `key=value` in text and as the key of the JSON object in JSON.
class Value {
 public:
  enum class Kind : std::uint8_t { text, signed_integer, unsigned_integer, boolean };
  Value(std::string_view text) : kind_(Kind::text), text_(text) {}
  Value(const char* text) : kind_(Kind::text), text_(text) {}
  Value(const std::string& text) : kind_(Kind::text), text_(text) {}
  Value(bool flag) : kind_(Kind::boolean), unsigned_(flag) {}
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      Value(T number) {
    if constexpr (std::is_signed_v<T>) {
      kind_ = Kind::signed_integer;
      signed_ = number;
    } else {
      kind_ = Kind::unsigned_integer;
      unsigned_ = number;
    }
  }
  Kind kind() const { return kind_; }
  std::string_view text() const { return text_; }
  std::int64_t signed_integer() const { return signed_; }
  std::uint64_t unsigned_integer() const { return unsigned_; }

 private:
  Kind kind_ = Kind::text;
  std::string_view text_;
  std::int64_t signed_ = 0;
  std::uint64_t unsigned_ = 0;
};

struct Field {
  std::string_view key;  // a fixed identifier (snake_case), never client text
  Value value;           // client text must go through clip() first
};

// Logs one structured event: `message` then its fields. The values are only borrowed for the
// call. E.g. log::event(spdlog::level::info, "connection closed", {{"bytes_in", n}}).
void event(spdlog::level::level_enum level, std::string_view message,
           std::initializer_list<Field> fields);

}  // namespace cablecast::log

#define CC_LOG_TRACE(...) ::cablecast::log::get().trace(__VA_ARGS__)
#define CC_LOG_DEBUG(...) ::cablecast::log::get().debug(__VA_ARGS__)
#define CC_LOG_INFO(...) ::cablecast::log::get().info(__VA_ARGS__)
#define CC_LOG_WARN(...) ::cablecast::log::get().warn(__VA_ARGS__)
#define CC_LOG_ERROR(...) ::cablecast::log::get().error(__VA_ARGS__)
