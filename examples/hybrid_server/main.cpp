// One server, two homes for channels: the hot one native, the rest in the application.
//
// A Rails (anycable-rails) or Node (@anycable/serverless-js) application keeps its
// connection class and most channels; Cablecast calls it over AnyCable's RPC for `connect`,
// for every command of those channels, and for `disconnect`. The channel that carries most of
// the traffic (here: cursor positions in a collaborative editor, dozens of messages a second
// per user) is written in C++ and never leaves the server. It still knows who the user is:
// the identifiers the application returned from `connect` are its connection_identifiers().
//
// Build: cmake --build --preset release --target hybrid_server
// Run:   build/release/examples/hybrid_server 8080 http://127.0.0.1:3000/_anycable
//        (grpc://127.0.0.1:50051 for an anycable gem's gRPC server)
#include <boost/json.hpp>
#include <cablecast/server.hpp>
#include <cstdlib>
#include <string>

namespace json = boost::json;

// Cursor positions in a shared document: every move goes to every other editor at once. No
// database, no Ruby: this is what a native channel is for.
class CursorChannel : public cablecast::Channel {
 public:
  static void define_actions(cablecast::Actions<CursorChannel>& actions) {
    actions.add("move", &CursorChannel::move);
  }

 protected:
  void subscribed() override {
    auto document = param("document");
    if (!document || document->empty()) return reject();
    stream_for(*document);  // "cursor:<document>"
  }

 private:
  void move(const json::object& data) {
    auto x = data.if_contains("x");
    auto y = data.if_contains("y");
    if (!x || !y || !x->is_number() || !y->is_number()) return;
    // The user as the application identified it over RPC (e.g. {"user":"alice"}).
    broadcast(broadcasting_for(*param("document")),
              {{"who", connection_identifiers()}, {"x", *x}, {"y", *y}});
  }
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: hybrid_server PORT RPC_URL\n");
    return 2;
  }
  cablecast::ServerOptions options;
  options.port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  options.anycable.rpc.url = argv[2];
  // The RPC secret, JWT and broadcast keys derive from the one secret an AnyCable app has.
  if (const char* secret = std::getenv("ANYCABLE_SECRET")) options.anycable.secret = secret;
  cablecast::Server server(options);
  // Registered channels are served here; every other channel name goes to the application.
  server.channel<CursorChannel>("CursorChannel");
  // No on_connect hook: the application's connect (over RPC) identifies every connection.
  return server.run() ? 0 : 1;
}
