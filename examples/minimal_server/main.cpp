// A complete Cablecast server with one channel, written the way a Rails channel is:
//
//   // app/javascript: consumer.subscriptions.create({channel: "NotesChannel", board: "ideas"},
//   //                   {received(note) { ... }}).perform("add", {text: "hello"})
//
// Build: cmake --build --preset release --target minimal_server
// Run:   build/release/examples/minimal_server 8090
#include <boost/json.hpp>
#include <cablecast/server.hpp>
#include <string>

namespace json = boost::json;

// Notes on a shared board: everyone subscribed to a board sees every note added to it.
class NotesChannel : public cablecast::Channel {
 public:
  // The one place where client-callable actions are listed.
  static void define_actions(cablecast::Actions<NotesChannel>& actions) {
    actions.add("add", &NotesChannel::add);
  }

 protected:
  void subscribed() override {
    auto board = param("board");
    if (!board || board->empty()) return reject();  // client sees reject_subscription
    stream_for(*board);                             // broadcasting "notes:<board>"
    transmit({{"hello", connection_identifiers().at("user")}});
    // Rails' `periodically`: a heartbeat for this subscriber only.
    periodically(std::chrono::seconds(30), [this] { transmit({{"still_here", true}}); });
  }

  void unsubscribed() override { /* streams and timers stop on their own */
  }

 private:
  void add(const json::object& data) {
    auto text = data.if_contains("text");
    if (!text || !text->is_string()) return;
    // Pretend saving takes a database round trip: do it off the event loop, then come back.
    run_blocking([note = json::value_to<std::string>(*text)] { return note; },  // "INSERT ..."
                 [this](std::string saved) {
                   broadcast(broadcasting_for(*param("board")),
                             {{"user", connection_identifiers().at("user")}, {"text", saved}});
                 });
  }
};

int main(int argc, char** argv) {
  cablecast::ServerOptions options;
  options.port = argc > 1 ? static_cast<std::uint16_t>(std::stoi(argv[1])) : 8090;
  cablecast::Server server(options);
  server.channel<NotesChannel>("NotesChannel");
  // Rails' ApplicationCable::Connection#connect: identify the user or refuse the socket.
  server.on_connect([](const cablecast::ConnectionRequest& request) {
    auto user = request.cookie("user").value_or(request.query("user").value_or(""));
    if (user.empty()) return cablecast::ConnectResult::reject();
    return cablecast::ConnectResult::accept({{"user", user}});
  });
  return server.run() ? 0 : 1;  // SIGINT/SIGTERM: clients get server_restart, then exit 0
}
