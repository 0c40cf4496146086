#pragma once
// Channels: the public C++ API, shaped like Rails' ActionCable::Channel::Base.
//
//   class ChatChannel : public cablecast::Channel {
//    public:
//     static void define_actions(cablecast::Actions<ChatChannel>& actions) {
//       actions.add("speak", &ChatChannel::speak);     // client: perform("speak", {...})
//     }
//    protected:
//     void subscribed() override {
//       auto room = param("room");
//       if (!room || room->empty()) return reject();
//       stream_from("chat_" + std::string(*room));
//     }
//    private:
//     void speak(const boost::json::object& data) { broadcast("chat_" + ..., data); }
//   };
//   server.channel<ChatChannel>("ChatChannel");
//
// Threading contract: a channel object belongs to one connection, which lives on one event
// loop thread. subscribed(), unsubscribed(), actions, periodic ticks and run_blocking()
// continuations all run on that thread, one at a time, so a channel needs no locks for its own
// state. Never block in them: move blocking work (a database call) to run_blocking().
// broadcast() may be called from any thread (also through Server::broadcast).
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cablecast/detail/channel_class.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cablecast {

namespace detail {
class ChannelContext;
struct ChannelAccess;
}  // namespace detail

// Turns a "model-ish" key into its broadcasting part, like Rails' to_param / to_gid_param:
// strings as they are, integers in decimal, and any other type through a function
// `std::string to_broadcasting_key(const T&)` found by argument-dependent lookup.
template <class T>
std::string broadcasting_key(const T& key) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(key));
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(key);
  } else {
    return to_broadcasting_key(key);
  }
}

// What else a stream carries besides broadcasts (AnyCable's extended protocol):
// whispers: clients may send "whisper" commands, delivered to every other subscriber of the
// stream, never stored (typing indicators); presence: clients may join / leave the stream's
// presence set and ask who is in it.
struct StreamOptions {
  bool whisper = false;
  bool presence = false;
};

class Channel {
 public:
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

 protected:
  Channel() = default;

  // Called once the subscription is created. Stream, transmit, or reject() here. The client's
  // confirm_subscription is sent after it returns and every stream it started is live.
  virtual void subscribed() {}
  // Called when the client unsubscribes, the subscription is rejected, or the connection ends.
  // Streams and timers stop right after it returns.
  virtual void unsubscribed() {}

  // The decoded identifier, "channel" included (as Rails' params). Decoded on demand: the
  // reference is valid until the callback that asked for it returns (copy what must last), and
  // only on the loop's thread (not inside run_blocking's work).
  const boost::json::object& params() const;
  // params()[key] when it is a string.
  std::optional<std::string_view> param(std::string_view key) const;
  // The identifier exactly as the client sent it.
  const std::string& identifier() const;
  // What the connect hook identified the connection with (e.g. {"user": "alice"}). Decoded on
  // demand as params() is, with the same rule: valid until the callback returns, on the loop.
  const boost::json::object& connection_identifiers() const;

  // Refuses the subscription: the client gets reject_subscription, unsubscribed() runs.
  void reject();
  bool rejected() const;

  // Starts delivering every broadcast on `broadcasting` to this client. Idempotent.
  void stream_from(std::string_view broadcasting);
  // The same, with whispers and/or presence on that stream (one stream of a subscription
  // carries each: the last one asked for wins).
  void stream_from(std::string_view broadcasting, StreamOptions options);
  // stream_from("<channel_name>:<key>[:<key>...]"), as Rails' stream_for(model).
  template <class... Keys>
  void stream_for(const Keys&... keys) {
    stream_from(broadcasting_for(keys...));
  }
  void stop_stream_from(std::string_view broadcasting);
  template <class... Keys>
  void stop_stream_for(const Keys&... keys) {
    stop_stream_from(broadcasting_for(keys...));
  }
  void stop_all_streams();

  // Sends {"identifier": <this>, "message": message} to this client only.
  void transmit(const boost::json::value& message);

  // Broadcasts to every subscriber of `broadcasting`, on every node. False when the pub/sub
  // adapter could not take it (the reason is logged).
  bool broadcast(std::string_view broadcasting, const boost::json::value& message);

  // "<channel_name>:<key>[:<key>...]" for stream_for/broadcast_to (Rails' broadcasting_for).
  template <class... Keys>
  std::string broadcasting_for(const Keys&... keys) const {
    std::string name(channel_name());
    ((name += ':', name += broadcasting_key(keys)), ...);
    return name;
  }
  // Rails' channel_name: "ChatChannel" -> "chat", "Admin::AlertsChannel" -> "admin:alerts".
  std::string_view channel_name() const;

  // Calls `tick` every `interval` until the subscription ends (Rails' periodically).
  void periodically(std::chrono::milliseconds interval, std::function<void()> tick);

  // Runs `work` on the server's blocking pool, then `then(result)` back on this channel's
  // thread, only if the subscription still exists. Called from subscribed(), the subscription
  // is confirmed (or rejected) only after `then` ran, so a database check can decide.
  // If `work` throws, the error is logged and `then` is not called (during subscribed(), the
  // subscription is rejected). Both callables must be copyable.
  template <class Work, class Then>
  void run_blocking(Work work, Then then) {
    using Result = std::invoke_result_t<Work&>;
    run_blocking_erased(
        [work = std::move(work), then = std::move(then)]() mutable -> std::function<void()> {
          if constexpr (std::is_void_v<Result>) {
            work();
            return [then]() mutable { then(); };
          } else {
            return [then, result = work()]() mutable { then(std::move(result)); };
          }
        });
  }

 private:
  friend struct detail::ChannelAccess;
  void run_blocking_erased(std::function<std::function<void()>()> job);
  detail::ChannelContext& context() const;

  detail::ChannelContext* context_ = nullptr;
};

// The action table of channel class T, filled by T::define_actions (one obvious place).
template <class T>
class Actions {
 public:
  explicit Actions(std::unordered_map<std::string, detail::Action>& table) : table_(table) {}

  // An action taking the client's data (the object passed to perform(), "action" included).
  void add(std::string name, void (T::*method)(const boost::json::object&)) {
    table_[std::move(name)] = [method](Channel& channel, const boost::json::object& data) {
      (static_cast<T&>(channel).*method)(data);
    };
  }
  // An action that ignores the data.
  void add(std::string name, void (T::*method)()) {
    table_[std::move(name)] = [method](Channel& channel, const boost::json::object&) {
      (static_cast<T&>(channel).*method)();
    };
  }

 private:
  std::unordered_map<std::string, detail::Action>& table_;
};

namespace detail {
template <class T>
ChannelClass make_channel_class(std::string name) {
  static_assert(std::is_base_of_v<Channel, T>, "channels derive from cablecast::Channel");
  ChannelClass cls;
  cls.stream_prefix = rails_channel_name(name);
  cls.name = std::move(name);
  cls.make = [] { return std::unique_ptr<Channel>(new T()); };
  if constexpr (requires(Actions<T> & a) { T::define_actions(a); }) {
    Actions<T> actions(cls.actions);
    T::define_actions(actions);
  }
  return cls;
}
}  // namespace detail

}  // namespace cablecast
