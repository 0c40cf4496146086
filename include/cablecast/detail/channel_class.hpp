#pragma once
// How the server knows a channel class: its name, a factory and its action table. Built once
// per class at registration, shared by every subscription of that class (so a subscription
// costs one pointer, not one table).
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace cablecast {
class Channel;
}

namespace cablecast::detail {

using Action = std::function<void(Channel&, const boost::json::object& data)>;

struct ChannelClass {
  std::string name;           // "ChatChannel", "Admin::AlertsChannel": the identifier's channel
  std::string stream_prefix;  // Rails' channel_name: "chat", "admin:alerts" (for stream_for)
  std::function<std::unique_ptr<Channel>()> make;
  std::unordered_map<std::string, Action> actions;
};

// Rails' channel_name: drop a trailing "Channel", "::" -> ":", CamelCase -> snake_case.
std::string rails_channel_name(std::string_view class_name);

}  // namespace cablecast::detail
