#include <boost/json/serialize.hpp>
#include <cablecast/channel.hpp>

#include "channel/channel_context.hpp"
#include "core/assert.hpp"

namespace cablecast {

detail::ChannelContext& Channel::context() const {
  // A channel is only usable once the session attached it (never in its constructor).
  CABLE_ASSERT(context_ != nullptr);
  return *context_;
}

const boost::json::object& Channel::params() const { return context().params(); }

std::optional<std::string_view> Channel::param(std::string_view key) const {
  const auto& p = context().params();
  auto it = p.find(key);
  if (it == p.end() || !it->value().is_string()) return std::nullopt;
  const auto& s = it->value().get_string();
  return std::string_view(s.data(), s.size());
}

const std::string& Channel::identifier() const { return context().identifier_string(); }

const boost::json::object& Channel::connection_identifiers() const {
  return context().connection_identifiers();
}

void Channel::reject() { context().reject(); }
bool Channel::rejected() const { return context().rejected(); }
void Channel::stream_from(std::string_view broadcasting) { context().stream_from(broadcasting); }
void Channel::stream_from(std::string_view broadcasting, StreamOptions options) {
  context().stream_from(broadcasting, options);
}
void Channel::stop_stream_from(std::string_view broadcasting) {
  context().stop_stream_from(broadcasting);
}
void Channel::stop_all_streams() { context().stop_all_streams(); }

void Channel::transmit(const boost::json::value& message) {
  context().transmit(boost::json::serialize(message));
}

bool Channel::broadcast(std::string_view broadcasting, const boost::json::value& message) {
  return context().broadcast(broadcasting, boost::json::serialize(message));
}

std::string_view Channel::channel_name() const { return context().channel_class().stream_prefix; }

void Channel::periodically(std::chrono::milliseconds interval, std::function<void()> tick) {
  context().periodically(interval, std::move(tick));
}

void Channel::run_blocking_erased(std::function<std::function<void()>()> job) {
  context().run_blocking(std::move(job));
}

}  // namespace cablecast
