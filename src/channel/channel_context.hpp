#pragma once
// What a Channel asks of the subscription it belongs to. The session implements it; the channel
// library only forwards, so channel code compiles and is tested without sockets or Asio.
#include <boost/json/object.hpp>
#include <cablecast/channel.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace cablecast::detail {

class ChannelContext {
 public:
  virtual const boost::json::object& params() const = 0;
  virtual const std::string& identifier_string() const = 0;
  virtual const boost::json::object& connection_identifiers() const = 0;
  virtual const ChannelClass& channel_class() const = 0;

  virtual void reject() = 0;
  virtual bool rejected() const = 0;
  virtual void stream_from(std::string_view broadcasting) = 0;
  virtual void stream_from(std::string_view broadcasting, StreamOptions options) = 0;
  virtual void stop_stream_from(std::string_view broadcasting) = 0;
  virtual void stop_all_streams() = 0;
  // `message_json`: one JSON value, encoded.
  virtual void transmit(std::string message_json) = 0;
  virtual bool broadcast(std::string_view broadcasting, std::string payload_json) = 0;
  virtual void periodically(std::chrono::milliseconds interval, std::function<void()> tick) = 0;
  // `job` runs off the loop and returns the continuation to run back on it.
  virtual void run_blocking(std::function<std::function<void()>()> job) = 0;

 protected:
  ~ChannelContext() = default;
};

// The session's way in: attaches a context to a channel it created.
struct ChannelAccess {
  static void attach(Channel& channel, ChannelContext* context) { channel.context_ = context; }
  static void subscribed(Channel& channel) { channel.subscribed(); }
  static void unsubscribed(Channel& channel) { channel.unsubscribed(); }
};

}  // namespace cablecast::detail
