#pragma once
// The channels built into the `cablecast` binary, used by the demo, the benchmarks and the
// tests. Their behaviour matches reference/ruby/ exactly (the Ruby Action Cable twin).
#include <cablecast/channel.hpp>
#include <cablecast/connection.hpp>
#include <cablecast/server.hpp>

namespace cablecast::builtin {

// The websocket-shootout channel: streams from "all<id>"; echo transmits the data back;
// broadcast sends it to the stream, then answers the sender with "action":"broadcastResult".
class BenchmarkChannel : public Channel {
 public:
  static void define_actions(Actions<BenchmarkChannel>& actions);

 protected:
  void subscribed() override;

 private:
  std::string stream() const;
  void echo(const boost::json::object& data);
  void broadcast_action(const boost::json::object& data);
};

// The demo chat: needs a "room" that is not blank (Rails' blank?: empty or whitespace only); speak
// broadcasts {"user":…,"text":…} to the room.
class ChatChannel : public Channel {
 public:
  static void define_actions(Actions<ChatChannel>& actions);

 protected:
  void subscribed() override;

 private:
  void speak(const boost::json::object& data);
};

// The demo identification: `user` query parameter (default "anonymous"); `reject=1` refuses.
ConnectResult identify_by_query(const ConnectionRequest& request);

// Registers both channels and the hook on `server`.
void install(Server& server);

}  // namespace cablecast::builtin
