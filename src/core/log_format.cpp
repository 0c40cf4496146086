#include "core/log_format.hpp"

#include <fmt/format.h>
#include <simdjson.h>
#include <time.h>

#include <boost/json/serialize.hpp>

namespace cablecast::log {

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
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
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
}

namespace {

// A JSON string. Boost.JSON escapes quotes and control characters; bytes that are not UTF-8
// (client text cut mid-character, binary junk) would make the line invalid JSON, so a text
// that is not valid UTF-8 has its non-ASCII bytes written as \xNN first (as clip does).
void append_json_string(std::string& out, std::string_view text) {
  if (simdjson::validate_utf8(text.data(), text.size())) {
    out += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
    return;
  }
  std::string ascii;
  ascii.reserve(text.size() + 16);
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      ascii += c;
    } else {
      ascii += "\\x";
      ascii += kHex[byte >> 4];
      ascii += kHex[byte & 0xF];
    }
  }
  out += boost::json::serialize(boost::json::string_view(ascii));
}

// Text values are quoted when they would otherwise not read back as one `key=value` token.
void append_text_value(std::string& out, std::string_view text) {
  const bool quote = text.empty() || text.find_first_of(" \"=") != std::string_view::npos;
  if (!quote) return append_escaped(out, text);
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    append_escaped(out, std::string_view(&c, 1));
  }
  out += '"';
}

void append_value(std::string& out, Format format, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::text:
      return format == Format::json ? append_json_string(out, value.text())
                                    : append_text_value(out, value.text());
    case Value::Kind::signed_integer:
      out += std::to_string(value.signed_integer());
      return;
    case Value::Kind::unsigned_integer:
      out += std::to_string(value.unsigned_integer());
      return;
    case Value::Kind::boolean:
      out += value.unsigned_integer() ? "true" : "false";
      return;
  }
}

std::string_view level_name(spdlog::level::level_enum level) {
  auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto since_epoch = time.time_since_epoch();
  const auto secs = duration_cast<seconds>(since_epoch);
  const auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  const std::time_t t = secs.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

std::string render_line(Format format, const LineRecord& record) {
  std::string out;
  out.reserve(128 + record.message.size());
  if (format == Format::json) {
    out += "{\"time\":\"";
    out += rfc3339(record.time);
    out += "\",\"level\":";
    append_json_string(out, level_name(record.level));
    if (record.connection) {
      out += ",\"conn\":";
      append_json_string(out, record.connection.to_string());
    }
    out += ",\"message\":";
    append_json_string(out, record.message);
    for (const Field& field : record.fields) {
      out += ',';
      append_json_string(out, field.key);
      out += ':';
      append_value(out, format, field.value);
    }
    out += "}\n";
    return out;
  }
  out += rfc3339(record.time);
  out += ' ';
  const auto level = level_name(record.level);
  out += level;
  if (level.size() < 5) out.append(5 - level.size(), ' ');
  if (record.connection) {
    out += " [conn=";
    out += record.connection.to_string();
    out += ']';
  }
  out += ' ';
  append_escaped(out, record.message);
  for (const Field& field : record.fields) {
    out += ' ';
    out += field.key;
    out += '=';
    append_value(out, format, field.value);
  }
  out += '\n';
  return out;
}

namespace detail {
// Set by log::event for the duration of its one spdlog call (log.cpp).
thread_local std::span<const Field> pending_fields;
}  // namespace detail

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  LineRecord record;
  record.time = msg.time;
  record.level = msg.level;
  record.message = std::string_view(msg.payload.data(), msg.payload.size());
  record.connection = current_connection();
  record.fields = detail::pending_fields;
  const std::string line = render_line(format_, record);
  if (format_ == Format::text) {
    // The level name is coloured when stderr is a terminal (the colour sink reads this range).
    msg.color_range_start = dest.size() + 25;  // after "YYYY-MM-DDTHH:MM:SS.mmmZ "
    msg.color_range_end = msg.color_range_start + level_name(msg.level).size();
  }
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(format_);
}

}  // namespace cablecast::log
