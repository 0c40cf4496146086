// The library as its users see it: a real cablecast::Server started in this process on a free
// port, C++ channels, and a real WebSocket client (Boost.Beast) over loopback. Covers what the
// README documents of the channel API and of Server that no other test reaches: `periodically`
// (ticks until the subscription ends), `stop_stream_from`, and `Server::broadcast` called from
// threads other than the loops (each caller's order kept, nothing lost).
// "Nothing arrives" is always fenced by a later message that must arrive after it, never by a
// sleep; every wait has a generous deadline that only a broken server reaches.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <cablecast/channel.hpp>
#include <cablecast/server.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr auto kWait = 10s;  // only a broken server makes a wait last this long

std::string text(const json::value& message, std::string_view key) {
  const json::value* v = message.is_object() ? message.as_object().if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
json::value body(const json::value& message) {
  const json::value* v = message.is_object() ? message.as_object().if_contains("message") : nullptr;
  return v ? *v : json::value();
}

// Streams from "<stream>" and "<stream>-fence" (its fence: broadcasts on it come after any
// earlier broadcast of the same caller); `stop` stops the first; with `tick_ms`, transmits
// {"tick": n} every tick_ms until unsubscribed.
class ProbeChannel : public cablecast::Channel {
 public:
  static void define_actions(cablecast::Actions<ProbeChannel>& a) {
    a.add("stop", &ProbeChannel::stop);
  }

 protected:
  void subscribed() override {
    const std::string stream(param("stream").value_or("probe"));
    stream_from(stream);
    stream_from(stream + "-fence");
    if (auto ms = param("tick_ms")) {
      periodically(std::chrono::milliseconds(std::stoi(std::string(*ms))), [this] {
        transmit({{"tick", ++ticks_}});
      });
    }
  }

 private:
  void stop(const json::object&) {
    stop_stream_from(std::string(param("stream").value_or("probe")));
    transmit({{"stopped", true}});
  }
  int ticks_ = 0;
};

// One Action Cable client over Beast: every read has a deadline (run_for), so a broken server
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : ws_(io_) {
    asio::ip::tcp::resolver resolver(io_);
    beast::get_lowest_layer(ws_).connect(
        *resolver.resolve("127.0.0.1", std::to_string(port)).begin());
    ws_.set_option(
        beast::websocket::stream_base::decorator([](beast::websocket::request_type& req) {
          req.set(beast::http::field::sec_websocket_protocol, "actioncable-v1-json");
        }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/cable");
    EXPECT_EQ(text(next(), "type"), "welcome");
  }

  void send(const json::value& command) { ws_.write(asio::buffer(json::serialize(command))); }

  // The next message that is not an Action Cable ping; a JSON null after kWait.
  json::value next() {
    for (;;) {
      std::optional<beast::error_code> done;
      buffer_.clear();
      ws_.async_read(buffer_, [&](beast::error_code ec, std::size_t) { done = ec; });
      io_.restart();
      io_.run_for(kWait);
      if (!done) {
        ADD_FAILURE() << "no message within the deadline";
        beast::get_lowest_layer(ws_).close();
        io_.restart();
        io_.run();
        return nullptr;
      }
      if (*done) {
        ADD_FAILURE() << "read failed: " << done->message();
        return nullptr;
      }
      json::value message = json::parse(beast::buffers_to_string(buffer_.data()));
      if (text(message, "type") == "ping") continue;
      return message;
    }
  }

  // Subscribes and waits for the confirmation; returns the identifier.
  std::string subscribe(const json::object& params) {
    json::object id{{"channel", "ProbeChannel"}};
    for (const auto& [k, v] : params) id[k] = v;
    std::string identifier = json::serialize(id);
    send({{"command", "subscribe"}, {"identifier", identifier}});
    json::value m = next();
    EXPECT_EQ(text(m, "identifier"), identifier);
    EXPECT_EQ(text(m, "type"), "confirm_subscription");
    return identifier;
  }

  void perform(const std::string& identifier, std::string_view action) {
    send({{"command", "message"},
          {"identifier", identifier},
          {"data", json::serialize(json::object{{"action", action}})}});
  }

 private:
  asio::io_context io_;
  beast::websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

class InProcessServer : public ::testing::Test {
 protected:
  void SetUp() override {
    cablecast::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.handle_signals = false;
    options.metrics.enabled = false;
    server_.emplace(options);
    server_->channel<ProbeChannel>("ProbeChannel");
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override { server_->stop(); }

  std::optional<cablecast::Server> server_;
};

TEST_F(InProcessServer, PeriodicallyTicksInOrderUntilTheSubscriptionEnds) {
  Client client(server_->port());
  const std::string ticking = client.subscribe({{"stream", "a"}, {"tick_ms", "20"}});
  for (int n = 1; n <= 3; ++n) {
    json::value m = client.next();
    EXPECT_EQ(text(m, "identifier"), ticking);
    EXPECT_EQ(body(m), json::value(json::object{{"tick", n}}));
  }
  // A second ticking subscription is the fence: once the first is unsubscribed (the later
  // subscribe's confirmation proves the unsubscribe was handled, commands run in order), five
  // ticks of the second come with none of the first between them.
  client.send({{"command", "unsubscribe"}, {"identifier", ticking}});
  const std::string other = client.subscribe({{"stream", "b"}, {"tick_ms", "20"}});
  for (int n = 1; n <= 5; ++n) {
    json::value m = client.next();
    ASSERT_EQ(text(m, "identifier"), other) << "a tick after unsubscribe: " << m;
    EXPECT_EQ(body(m), json::value(json::object{{"tick", n}}));
  }
}

TEST_F(InProcessServer, StopStreamFromEndsThatStreamOnly) {
  Client client(server_->port());
  const std::string id = client.subscribe({{"stream", "news"}});
  ASSERT_TRUE(server_->broadcast("news", {{"n", 1}}));
  EXPECT_EQ(body(client.next()), json::value(json::object{{"n", 1}}));

  client.perform(id, "stop");
  EXPECT_EQ(body(client.next()), json::value(json::object{{"stopped", true}}));
  // Same caller, same thread: "news" is published before the fence, so had the stream stayed,
  // its message would come first.
  ASSERT_TRUE(server_->broadcast("news", {{"n", 2}}));
  ASSERT_TRUE(server_->broadcast("news-fence", {{"fence", true}}));
  EXPECT_EQ(body(client.next()), json::value(json::object{{"fence", true}}));
}

TEST_F(InProcessServer, BroadcastFromOtherThreadsKeepsEachThreadsOrderAndLosesNothing) {
  Client client(server_->port());
  client.subscribe({{"stream", "threads"}});
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int n = 0; n < kEach; ++n) {
        EXPECT_TRUE(server_->broadcast("threads", {{"t", t}, {"n", n}}));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<int> next_of(kThreads, 0);
  for (int received = 0; received < kThreads * kEach; ++received) {
    json::value m = client.next();
    ASSERT_TRUE(m.is_object()) << "after " << received << " messages";
    const auto t = static_cast<int>(body(m).at("t").as_int64());
    const auto n = static_cast<int>(body(m).at("n").as_int64());
    ASSERT_EQ(n, next_of[static_cast<std::size_t>(t)]) << "thread " << t << " out of order";
    ++next_of[static_cast<std::size_t>(t)];
  }
  // Nothing duplicated: the next message is a fence broadcast after them all.
  ASSERT_TRUE(server_->broadcast("threads-fence", {{"fence", true}}));
  EXPECT_EQ(body(client.next()), json::value(json::object{{"fence", true}}));
}

}  // namespace
