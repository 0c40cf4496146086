#include "app/builtin_channels.hpp"

#include <boost/json/serialize.hpp>

#include "app/blank.hpp"

namespace cablecast::builtin {

void BenchmarkChannel::define_actions(Actions<BenchmarkChannel>& actions) {
  actions.add("echo", &BenchmarkChannel::echo);
  actions.add("broadcast", &BenchmarkChannel::broadcast_action);
}

// Ruby interpolates "all#{params[:id]}": strings as they are, numbers in decimal, nil empty.
std::string BenchmarkChannel::stream() const {
  auto it = params().find("id");
  if (it == params().end() || it->value().is_null()) return "all";
  if (it->value().is_string()) return "all" + std::string(it->value().get_string());
  return "all" + boost::json::serialize(it->value());
}

void BenchmarkChannel::subscribed() { stream_from(stream()); }

void BenchmarkChannel::echo(const boost::json::object& data) { transmit(data); }

void BenchmarkChannel::broadcast_action(const boost::json::object& data) {
  broadcast(stream(), data);
  boost::json::object result = data;
  result["action"] = "broadcastResult";
  transmit(result);
}

void ChatChannel::define_actions(Actions<ChatChannel>& actions) {
  actions.add("speak", &ChatChannel::speak);
}

void ChatChannel::subscribed() {
  auto room = param("room");
  if (!room || app::blank(*room)) return reject();  // as Rails' `room.blank?`
  // The demo page lists who is in the room (presence) and shows "... is typing" (whispers).
  stream_from("chat_" + std::string(*room), StreamOptions{.whisper = true, .presence = true});
}

void ChatChannel::speak(const boost::json::object& data) {
  auto field = [&](std::string_view key) -> boost::json::value {
    auto it = data.find(key);
    return it == data.end() ? boost::json::value(nullptr) : it->value();
  };
  // Exactly these two keys, a missing one as null, as the Ruby reference broadcasts.
  broadcast("chat_" + std::string(*param("room")),
            boost::json::object{{"user", field("user")}, {"text", field("text")}});
}

ConnectResult identify_by_query(const ConnectionRequest& request) {
  if (request.query("reject") == "1") return ConnectResult::reject();
  std::string user = request.query("user").value_or("anonymous");
  if (user.empty()) user = "anonymous";
  return ConnectResult::accept({{"user", user}});
}

void install(Server& server) {
  server.channel<BenchmarkChannel>("BenchmarkChannel");
  server.channel<ChatChannel>("ChatChannel");
  server.on_connect(identify_by_query);
}

}  // namespace cablecast::builtin
