#include "server/options_check.hpp"

#include <fmt/format.h>

namespace cablecast::server {

namespace {

// Below these a WebSocket client cannot even send a subscribe command or receive a
// confirmation; above, one client could hold more memory than most servers have.
constexpr std::size_t kMinMessageSize = 128;
constexpr std::size_t kMaxMessageSize = std::size_t{1} << 30;
constexpr std::size_t kMinOutboundBytes = 4096;
constexpr std::size_t kMaxOutboundBytes = std::size_t{1} << 32;
constexpr unsigned kMaxThreads = 1024;

std::optional<std::string> outside(const char* flag, std::size_t value, std::size_t min,
                                   std::size_t max) {
  if (value >= min && value <= max) return std::nullopt;
  return fmt::format("{} {} is outside {}..{}", flag, value, min, max);
}

}  // namespace

std::optional<std::string> invalid_option(const ServerOptions& o) {
  if (!o.path.starts_with('/')) return fmt::format("--path \"{}\" must start with /", o.path);
  if (auto e =
          outside("--max-message-size", o.max_message_size, kMinMessageSize, kMaxMessageSize)) {
    return e;
  }
  if (auto e = outside("--max-outbound-bytes", o.max_outbound_bytes, kMinOutboundBytes,
                       kMaxOutboundBytes)) {
    return e;
  }
  if (auto e = outside("--threads", o.threads, 0, kMaxThreads)) return e;
  if (o.tls.min_version != "1.2" && o.tls.min_version != "1.3") {
    return fmt::format("--tls-min-version \"{}\" must be 1.2 or 1.3", o.tls.min_version);
  }
  if (o.ping_interval.count() <= 0) return std::string("ping_interval must be positive");
  if (o.health_interval < std::chrono::milliseconds(100) ||
      o.health_interval > std::chrono::milliseconds(600000)) {
    return fmt::format("--health-interval {} is outside 100..600000", o.health_interval.count());
  }
  if (o.blocking_threads == 0) {
    return std::string("blocking_threads must be at least 1 (Channel::run_blocking needs one)");
  }
  if (o.anycable.broadcast.path == o.path) {
    return fmt::format("--broadcast-path \"{}\" must differ from --path", o.path);
  }
  return invalid_anycable_option(o.anycable);
}

std::optional<std::string> invalid_anycable_option(const AnyCableOptions& a) {
  const auto& url = a.rpc.url;
  if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://") &&
      !url.starts_with("grpc://")) {
    return fmt::format("--rpc-url \"{}\" must start with http://, https:// or grpc://", url);
  }
  if (auto e = outside("--rpc-concurrency", a.rpc.concurrency, 1, 1024)) return e;
  if (a.rpc.timeout.count() <= 0) return std::string("--rpc-timeout must be positive");
  if (a.jwt.param.empty()) return std::string("--jwt-param must not be empty");
  if (a.jwt.enforce && a.jwt.secret.empty() && a.secret.empty()) {
    return std::string("--enforce-jwt needs --jwt-secret or --secret");
  }
  if (a.streams.turbo_key_digest != "sha256" && a.streams.turbo_key_digest != "sha1") {
    return fmt::format("--turbo-key-digest \"{}\" must be sha256 or sha1",
                       a.streams.turbo_key_digest);
  }
  // HTTP broadcasts (--broadcast-*; the key itself may be anything, empty = off).
  const BroadcastApiOptions& broadcast = a.broadcast;
  if (!broadcast.path.starts_with('/')) {
    return fmt::format("--broadcast-path \"{}\" must start with /", broadcast.path);
  }
  if (auto e = outside("--broadcast-max-body", broadcast.max_body_bytes, kMinMessageSize,
                       kMaxMessageSize)) {
    return e;
  }
  return std::nullopt;
}

}  // namespace cablecast::server
