#include "app/settings.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <map>

namespace cablecast::app {

namespace {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Applies one TOML value to the setting it names; returns an error text or "".
using Setter = std::function<std::string(const toml::node&)>;

template <class T>
Setter integer(T& target) {
  return [&target](const toml::node& node) -> std::string {
    auto value = node.value<std::int64_t>();
    if (!value || *value < 0 ||
        static_cast<std::uint64_t>(*value) > std::numeric_limits<T>::max()) {
      return "expects an integer from 0 to " + std::to_string(std::numeric_limits<T>::max());
    }
    target = static_cast<T>(*value);
    return {};
  };
}

Setter boolean(bool& target) {
  return [&target](const toml::node& node) -> std::string {
    auto value = node.value<bool>();
    if (!value || !node.is_boolean()) return "expects true or false";
    target = *value;
    return {};
  };
}

Setter text(std::string& target) {
  return [&target](const toml::node& node) -> std::string {
    auto value = node.value<std::string>();
    if (!value) return "expects a string";
    target = *value;
    return {};
  };
}

Setter text_or_list(std::string& target) {
  return [&target](const toml::node& node) -> std::string {
    if (auto value = node.value<std::string>()) {
      target = *value;
      return {};
    }
    const toml::array* array = node.as_array();
    if (!array) return "expects a string or an array of strings";
    std::string joined;
    for (const auto& item : *array) {
      auto value = item.value<std::string>();
      if (!value) return "expects an array of strings";
      if (!joined.empty()) joined += ',';
      joined += *value;
    }
    target = joined;
    return {};
  };
}

std::map<std::string, Setter> setters(ServeSettings& s) {
  return {
      {"host", text(s.server.host)},
      {"port", integer(s.server.port)},
      {"path", text(s.server.path)},
      {"allowed_origins", text_or_list(s.allowed_origins)},
      {"max_message_size", integer(s.server.max_message_size)},
      {"max_outbound_bytes", integer(s.server.max_outbound_bytes)},
      {"threads", integer(s.server.threads)},
      {"pin_threads", boolean(s.server.pin_threads)},
      {"max_connections", integer(s.server.max_connections)},
      {"reuse_port", boolean(s.server.reuse_port)},
      {"io_uring", boolean(s.server.io_uring)},
      {"max_subscriptions", integer(s.server.max_subscriptions)},
      {"max_commands_per_second", integer(s.server.max_commands_per_second)},
      {"handshake_timeout", integer(s.handshake_timeout_ms)},
      {"idle_timeout", integer(s.idle_timeout_ms)},
      {"shutdown_timeout", integer(s.shutdown_timeout_ms)},
      {"health_interval", integer(s.health_interval_ms)},
      {"pubsub_wait", integer(s.pubsub_wait_s)},
      {"log_level", text(s.log_level)},
      {"log_format", text(s.log_format)},
      {"metrics", boolean(s.server.metrics.enabled)},
      {"metrics_port", integer(s.server.metrics.port)},
      {"tls_cert", text(s.server.tls.certificate_file)},
      {"tls_key", text(s.server.tls.private_key_file)},
      {"tls_min_version", text(s.server.tls.min_version)},
      {"pubsub", text(s.server.pubsub.adapter)},
      {"redis_url", text(s.server.pubsub.redis_url)},
      {"postgres_url", text(s.server.pubsub.postgres_url)},
      {"channel_prefix", text(s.server.pubsub.channel_prefix)},
      // AnyCable compatibility (include/cablecast/anycable_options.hpp)
      {"secret", text(s.server.anycable.secret)},
      {"rpc_url", text(s.server.anycable.rpc.url)},
      {"rpc_secret", text(s.server.anycable.rpc.secret)},
      {"rpc_concurrency", integer(s.server.anycable.rpc.concurrency)},
      {"rpc_timeout", integer(s.rpc_timeout_ms)},
      {"rpc_headers", text_or_list(s.rpc_headers)},
      {"jwt_secret", text(s.server.anycable.jwt.secret)},
      {"jwt_param", text(s.server.anycable.jwt.param)},
      {"enforce_jwt", boolean(s.server.anycable.jwt.enforce)},
      {"streams_secret", text(s.server.anycable.streams.secret)},
      {"public_streams", boolean(s.server.anycable.streams.public_streams)},
      {"turbo_streams_secret", text(s.server.anycable.streams.turbo_secret)},
      {"secret_key_base", text(s.server.anycable.streams.secret_key_base)},
      {"turbo_key_digest", text(s.server.anycable.streams.turbo_key_digest)},
      {"demo_channels", text(s.demo_channels)},
      {"streams_presence", boolean(s.server.anycable.streams.presence)},
      {"streams_whisper", boolean(s.server.anycable.streams.whisper)},
      // AnyCable's extended protocol
      {"history_limit", integer(s.server.anycable.extended.history_limit)},
      {"history_ttl", integer(s.history_ttl_s)},
      {"sessions_ttl", integer(s.sessions_ttl_s)},
      {"presence_ttl", integer(s.presence_ttl_s)},
      {"pong_timeout", integer(s.pong_timeout_s)},
      // HTTP broadcasts, anycable-rails' Redis channel
      {"broadcast_key", text(s.server.anycable.broadcast.key)},
      {"broadcast_path", text(s.server.anycable.broadcast.path)},
      {"broadcast_max_body", integer(s.server.anycable.broadcast.max_body_bytes)},
      {"redis_broadcast_channel", text(s.server.anycable.broadcast.redis_channel)},
  };
}

}  // namespace

ServerOptions ServeSettings::finish() const {
  ServerOptions options = server;
  options.allowed_origins = split_list(allowed_origins);
  options.handshake_timeout = std::chrono::milliseconds(handshake_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);
  options.shutdown_timeout = std::chrono::milliseconds(shutdown_timeout_ms);
  options.health_interval = std::chrono::milliseconds(health_interval_ms);
  options.pubsub_wait = std::chrono::seconds(pubsub_wait_s);
  options.anycable.rpc.forward_headers = split_list(rpc_headers);
  options.anycable.rpc.timeout = std::chrono::milliseconds(rpc_timeout_ms);
  auto& extended = options.anycable.extended;
  extended.history_ttl = std::chrono::seconds(history_ttl_s);
  extended.sessions_ttl = std::chrono::seconds(sessions_ttl_s);
  extended.presence_ttl = std::chrono::seconds(presence_ttl_s);
  extended.pong_timeout = std::chrono::seconds(pong_timeout_s);
  return options;
}

bool ServeSettings::wants_demo_channels() const {
  if (demo_channels == "auto") return server.anycable.rpc.url.empty();
  return demo_channels == "true";
}

std::optional<std::string> load_config_file(const std::string& path, ServeSettings& settings) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description());
  } catch (const std::exception& e) {
    return fmt::format("{}: {}", path, e.what());
  }
  auto table_setters = setters(settings);
  std::optional<std::string> error;
  auto apply = [&](const toml::table& table, std::string_view scope) {
    for (const auto& [key, node] : table) {
      std::string name(key.str());
      if (scope.empty() && name == "serve" && node.is_table()) continue;  // handled below
      std::replace(name.begin(), name.end(), '-', '_');
      auto setter = table_setters.find(name);
      if (setter == table_setters.end()) {
        error = fmt::format("{}: unknown setting \"{}\"", path, key.str());
        return;
      }
      if (std::string problem = setter->second(node); !problem.empty()) {
        error = fmt::format("{}: \"{}\" {}", path, key.str(), problem);
        return;
      }
    }
  };
  apply(root, "");
  if (!error) {
    if (const toml::table* serve = root["serve"].as_table()) apply(*serve, "serve");
  }
  return error;
}

std::vector<std::string> config_file_keys(const std::string& path) {
  std::vector<std::string> keys;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const std::exception&) {
    return keys;
  }
  auto add = [&](const toml::table& table) {
    for (const auto& [key, node] : table) {
      std::string name(key.str());
      if (name == "serve" && node.is_table()) continue;
      std::replace(name.begin(), name.end(), '-', '_');
      keys.push_back(std::move(name));
    }
  };
  add(root);
  if (const toml::table* serve = root["serve"].as_table()) add(*serve);
  return keys;
}

std::optional<std::string> apply_anycable_environment(
    ServeSettings& settings, const std::function<const char*(const char*)>& getenv,
    std::map<std::string, std::string>* applied) {
  auto& a = settings.server.anycable;
  // anycable-go's rpc_host is "host:port" for gRPC or a URL for HTTP RPC.
  if (const char* host = getenv("ANYCABLE_RPC_HOST")) {
    std::string value = host;
    bool has_scheme = value.find("://") != std::string::npos;
    a.rpc.url = has_scheme ? value : "grpc://" + value;
    if (applied) (*applied)["rpc_url"] = "ANYCABLE_RPC_HOST";
  }
  // Each name, then its older spellings (the first one set wins).
  enum class Kind { text, integer, boolean };
  struct Alias {
    const char* key;  // the setting, as in the config file
    std::vector<const char*> names;
    Kind kind;
    Setter set;
  };
  const Alias aliases[] = {
      {"secret", {"ANYCABLE_SECRET"}, Kind::text, text(a.secret)},
      {"rpc_secret", {"ANYCABLE_HTTP_RPC_SECRET"}, Kind::text, text(a.rpc.secret)},
      {"rpc_concurrency", {"ANYCABLE_RPC_CONCURRENCY"}, Kind::integer, integer(a.rpc.concurrency)},
      {"rpc_headers", {"ANYCABLE_HEADERS"}, Kind::text, text(settings.rpc_headers)},
      {"broadcast_key",
       {"ANYCABLE_BROADCAST_KEY", "ANYCABLE_HTTP_BROADCAST_SECRET"},
       Kind::text,
       text(a.broadcast.key)},
      {"redis_broadcast_channel",
       {"ANYCABLE_REDIS_CHANNEL"},
       Kind::text,
       text(a.broadcast.redis_channel)},
      {"jwt_secret",
       {"ANYCABLE_JWT_SECRET", "ANYCABLE_JWT_ID_KEY"},
       Kind::text,
       text(a.jwt.secret)},
      {"jwt_param", {"ANYCABLE_JWT_PARAM", "ANYCABLE_JWT_ID_PARAM"}, Kind::text, text(a.jwt.param)},
      {"enforce_jwt",
       {"ANYCABLE_ENFORCE_JWT", "ANYCABLE_JWT_ID_ENFORCE"},
       Kind::boolean,
       boolean(a.jwt.enforce)},
      {"streams_secret", {"ANYCABLE_STREAMS_SECRET"}, Kind::text, text(a.streams.secret)},
      {"public_streams",
       {"ANYCABLE_PUBLIC_STREAMS"},
       Kind::boolean,
       boolean(a.streams.public_streams)},
      {"streams_presence",
       {"ANYCABLE_STREAMS_PRESENCE"},
       Kind::boolean,
       boolean(a.streams.presence)},
      {"streams_whisper", {"ANYCABLE_STREAMS_WHISPER"}, Kind::boolean, boolean(a.streams.whisper)},
      {"history_limit",
       {"ANYCABLE_HISTORY_LIMIT"},
       Kind::integer,
       integer(a.extended.history_limit)},
      {"history_ttl", {"ANYCABLE_HISTORY_TTL"}, Kind::integer, integer(settings.history_ttl_s)},
      {"sessions_ttl", {"ANYCABLE_SESSIONS_TTL"}, Kind::integer, integer(settings.sessions_ttl_s)},
      {"presence_ttl", {"ANYCABLE_PRESENCE_TTL"}, Kind::integer, integer(settings.presence_ttl_s)},
      {"pong_timeout", {"ANYCABLE_PONG_TIMEOUT"}, Kind::integer, integer(settings.pong_timeout_s)},
      {"turbo_streams_secret",
       {"ANYCABLE_TURBO_STREAMS_SECRET", "ANYCABLE_TURBO_RAILS_KEY"},
       Kind::text,
       text(a.streams.turbo_secret)},
  };
  for (const auto& alias : aliases) {
    for (const char* name : alias.names) {
      const char* raw = getenv(name);
      if (!raw) continue;
      std::string value = raw;
      // The same setters as the config file, fed the value as the node its kind expects.
      std::string problem;
      if (alias.kind == Kind::text) {
        problem = alias.set(toml::value<std::string>(value));
      } else if (alias.kind == Kind::boolean) {
        if (value != "true" && value != "false") {
          problem = "expects true or false";
        } else {
          problem = alias.set(toml::value<bool>(value == "true"));
        }
      } else {
        std::int64_t number = -1;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        problem = ec != std::errc() || end != value.data() + value.size()
                      ? std::string("expects an integer")
                      : alias.set(toml::value<std::int64_t>(number));
      }
      if (!problem.empty()) return fmt::format("{}=\"{}\" {}", name, value, problem);
      if (applied) (*applied)[alias.key] = name;
      break;
    }
  }
  return std::nullopt;
}

}  // namespace cablecast::app
