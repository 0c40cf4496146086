// HttpBackend against a real AnyCable backend library: @anycable/serverless-js in Node
// (serverless_app.mjs next to this file), as an application set up for AnyCable would run it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "rpc/http_backend.hpp"

extern char** environ;

namespace cablecast::rpc {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::result;
using namespace std::chrono_literals;

constexpr const char* kSecret = "rpc-secret";

// `node serverless_app.mjs <secret>`, with its stdout read line by line. Closing its stdin ends it.
class NodeBackend {
 public:
  NodeBackend() {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string script = std::string(CABLECAST_SOURCE_DIR) + "/tests/unit/rpc/serverless_app.mjs";
    std::string node = "node";
    std::string secret = kSecret;
    char* argv[] = {node.data(), script.data(), secret.data(), nullptr};
    if (::posix_spawnp(&pid_, "node", &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }

  ~NodeBackend() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      for (int i = 0; i < 500 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(10ms);  // teardown only: let it close its server
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  // The next stdout line parsed as JSON, or nullopt after 10 s or at end of file.
  std::optional<json::value> next_line() {
    for (;;) {
      auto newline = pending_.find('\n');
      if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        boost::system::error_code ec;
        auto value = json::parse(line, ec);
        if (ec) continue;  // not one of our lines
        return value;
      }
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return std::nullopt;
      char buffer[4096];
      ssize_t n = ::read(stdout_, buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // The next RPC the application answered, as it recorded it.
  std::optional<json::object> next_call() {
    while (auto line = next_line()) {
      if (const auto* call = line->as_object().if_contains("call")) return call->as_object();
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string pending_;
};

class HttpBackendServerless : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = new NodeBackend();
    auto first = node_->next_line();
    ASSERT_TRUE(first) << "node did not start tests/unit/rpc/serverless_app.mjs";
    url_ = new std::string(first->at("url").as_string());
  }
  static void TearDownTestSuite() {
    delete node_;
    delete url_;
    node_ = nullptr;
    url_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(url_);
    BackendOptions options;
    options.url = *url_;
    options.secret = kSecret;
    auto backend = HttpBackend::create(options);
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
  }

  template <class Response, class Start>
  result<Response> wait_for(Start start) {
    auto promise = std::make_shared<std::promise<result<Response>>>();
    auto future = promise->get_future();
    start([promise](result<Response> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "the completion never ran";
      return boost::system::error_code(asio::error::timed_out);
    }
    return future.get();
  }

  result<ConnectionResponse> connect(const std::string& query, const std::string& sid) {
    ConnectionRequest request;
    request.env.url = "ws://localhost:8080/cable" + query;
    request.env.headers = {{"REMOTE_ADDR", "127.0.0.1"}};
    return wait_for<ConnectionResponse>(
        [&](auto done) { backend_->connect(request, CallMeta{sid}, reply_loop_, done); });
  }

  result<CommandResponse> command(std::string name, std::string identifier, std::string data = "") {
    CommandMessage request;
    request.command = std::move(name);
    request.identifier = std::move(identifier);
    request.connection_identifiers = R"({"user":"ann"})";
    request.data = std::move(data);
    request.env.url = "ws://localhost:8080/cable?token=good";
    return wait_for<CommandResponse>(
        [&](auto done) { backend_->command(request, CallMeta{"sid-cmd"}, reply_loop_, done); });
  }

  static NodeBackend* node_;
  static std::string* url_;
  asio::io_context reply_loop_io_;
  asio::executor_work_guard<asio::io_context::executor_type> reply_work_{
      reply_loop_io_.get_executor()};
  asio::io_context::executor_type reply_loop_ = reply_loop_io_.get_executor();
  std::thread reply_thread_{[this] { reply_loop_io_.run(); }};
  std::unique_ptr<HttpBackend> backend_;

  void TearDown() override {
    if (backend_) backend_->shutdown();
    reply_work_.reset();
    reply_thread_.join();
  }
};

NodeBackend* HttpBackendServerless::node_ = nullptr;
std::string* HttpBackendServerless::url_ = nullptr;

const std::string kRoom42 = R"({"channel":"ChatChannel","room":"42"})";

TEST_F(HttpBackendServerless, AnAcceptedConnectGetsTheWelcomeWithItsSidAndTheIdentifiers) {
  auto reply = connect("?token=good", "sid-ok");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->identifiers, R"({"user":"ann"})");
  EXPECT_EQ(reply->transmissions, std::vector<std::string>{R"({"type":"welcome","sid":"sid-ok"})"});
}

TEST_F(HttpBackendServerless, ARejectedConnectIsAFailureWithADisconnectTransmission) {
  auto reply = connect("?token=bad", "sid-bad");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::failure);
  EXPECT_EQ(reply->error_msg, "Auth failed");
  EXPECT_EQ(reply->transmissions,
            std::vector<std::string>{R"({"type":"disconnect","reason":"unauthorized"})"});
}

TEST_F(HttpBackendServerless, ASubscribeIsConfirmedWithItsStreams) {
  auto reply = command("subscribe", kRoom42);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->streams, std::vector<std::string>{"chat_42"});
  ASSERT_EQ(reply->transmissions.size(), 1u);
  auto frame = json::parse(reply->transmissions[0]);
  EXPECT_EQ(frame.at("type"), "confirm_subscription");
  EXPECT_EQ(frame.at("identifier"), kRoom42.c_str());
}

TEST_F(HttpBackendServerless, ASubscribeTheChannelRejectsIsAFailureWithARejection) {
  auto reply = command("subscribe", R"({"channel":"ChatChannel"})");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::failure);
  EXPECT_TRUE(reply->streams.empty());
  ASSERT_EQ(reply->transmissions.size(), 1u);
  EXPECT_EQ(json::parse(reply->transmissions[0]).at("type"), "reject_subscription");
}

TEST_F(HttpBackendServerless, AnActionTransmitsToTheCaller) {
  auto reply = command("message", kRoom42, R"({"action":"speak","text":"hi"})");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  ASSERT_EQ(reply->transmissions.size(), 1u);
  auto frame = json::parse(reply->transmissions[0]);
  EXPECT_EQ(frame.at("identifier"), kRoom42.c_str());
  EXPECT_EQ(frame.at("message"), json::parse(R"({"echo":"hi","room":"42"})"));
}

TEST_F(HttpBackendServerless, ADisconnectCarriesTheIdentifiersAndSubscriptions) {
  DisconnectRequest request;
  request.identifiers = R"({"user":"ann"})";
  request.subscriptions = {kRoom42};
  request.env.url = "ws://localhost:8080/cable?token=good";
  auto reply = wait_for<DisconnectResponse>(
      [&](auto done) { backend_->disconnect(request, CallMeta{"sid-bye"}, reply_loop_, done); });
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);

  // The application's own record of the call (calls before this one are skipped).
  std::optional<json::object> call;
  while ((call = node_->next_call()) && call->at("method") != "disconnect") {
  }
  ASSERT_TRUE(call);
  EXPECT_EQ(call->at("headers").at("x-anycable-meta-sid"), "sid-bye");
  EXPECT_EQ(call->at("headers").at("x-anycable-meta-protov"), "v1");
  EXPECT_EQ(call->at("body").at("identifiers"), R"({"user":"ann"})");
  EXPECT_EQ(call->at("body").at("subscriptions"), json::value(json::array{kRoom42.c_str()}));
}

TEST_F(HttpBackendServerless, AWrongSecretIsUnauthorized) {
  BackendOptions options;
  options.url = *url_;
  options.secret = "not-the-secret";
  auto backend = HttpBackend::create(options);
  ASSERT_TRUE(backend);
  auto reply = wait_for<ConnectionResponse>([&](auto done) {
    (*backend)->connect(ConnectionRequest{}, CallMeta{"s"}, reply_loop_, done);
  });
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::unauthorized);
}

}  // namespace
}  // namespace cablecast::rpc
