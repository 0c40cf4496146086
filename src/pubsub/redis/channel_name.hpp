#pragma once
// Rails' ChannelPrefix: broadcasting "chat_1" travels on the Redis channel "<prefix>:chat_1", or
// "chat_1" itself without a prefix ([prefix, name].compact.join(":")). An empty prefix here is
// Rails' nil: cable.yml without channel_prefix.
#include <optional>
#include <string>
#include <string_view>

namespace cablecast::pubsub::redis {

// The channel Rails' internal listener subscribes first, so its subscription count never drops
// to zero; we do the same (and it tells us the listener connection is live).
inline constexpr std::string_view kInternalChannel = "_action_cable_internal";

inline std::string channel_for(std::string_view prefix, std::string_view stream) {
  if (prefix.empty()) return std::string(stream);
  std::string channel;
  channel.reserve(prefix.size() + 1 + stream.size());
  channel.append(prefix).push_back(':');
  channel.append(stream);
  return channel;
}

// The broadcasting a channel carries, or nothing when it is not one of ours (other prefix).
inline std::optional<std::string_view> stream_for(std::string_view prefix,
                                                  std::string_view channel) {
  if (prefix.empty()) return channel;
  if (channel.size() <= prefix.size() || channel.substr(0, prefix.size()) != prefix ||
      channel[prefix.size()] != ':') {
    return std::nullopt;
  }
  return channel.substr(prefix.size() + 1);
}

}  // namespace cablecast::pubsub::redis
