#include "app/broadcast_command.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <thread>

#include "pubsub/factory.hpp"

namespace cablecast::app {

int broadcast_command(const PubSubOptions& pubsub, const std::string& stream,
                      const std::string& message_json) {
  if (pubsub.adapter == "memory") {
    std::fprintf(stderr,
                 "cablecast broadcast: the memory adapter only reaches its own process; use "
                 "--pubsub redis or --pubsub postgres to reach running servers\n");
    return 2;
  }
  boost::system::error_code ec;
  boost::json::value message = boost::json::parse(message_json, ec);
  if (ec) {
    std::fprintf(stderr, "cablecast broadcast: the message is not JSON: %s\n",
                 ec.message().c_str());
    return 2;
  }
  auto made = pubsub::make_adapter(pubsub);
  if (!made.adapter) {
    std::fprintf(stderr, "cablecast broadcast: %s\n", made.error.c_str());
    return 2;
  }
  boost::asio::io_context io{1};
  auto work = boost::asio::make_work_guard(io);
  std::thread broker([&io] { io.run(); });
  int code = 0;
  if (auto started = made.adapter->start([](std::string_view, pubsub::Payload) {}, io); !started) {
    std::fprintf(stderr, "cablecast broadcast: cannot reach the broker: %s\n",
                 started.error().message().c_str());
    code = 1;
  } else if (auto link = made.adapter->health(); !link.connected) {
    // start() serves a broker that is not up yet (for `serve`); a one-shot command fails now.
    std::fprintf(stderr, "cablecast broadcast: cannot reach the broker: %s\n", link.reason.c_str());
    code = 1;
  } else if (auto published = made.adapter->publish(stream, boost::json::serialize(message));
             !published) {
    std::fprintf(stderr, "cablecast broadcast: publish failed: %s\n",
                 published.error().message().c_str());
    code = 1;
  }
  made.adapter->stop();  // flushes what is queued before it closes
  work.reset();
  broker.join();
  return code;
}

}  // namespace cablecast::app
