// HttpBackend over real sockets against an HTTP server in the test process that answers what
// each test scripts: replies, failures, slow and absent backends, pooling, limits, shutdown.
#include "rpc/http_backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "rpc/http_codec.hpp"
#include "scripted_http_server.hpp"

namespace cablecast::rpc {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
using testing::ScriptedHttpServer;
using Reply = ScriptedHttpServer::Reply;
using Request = ScriptedHttpServer::Request;
using namespace std::chrono_literals;

constexpr const char* kWelcome = R"({"status":1,"identifiers":"{\"user\":\"ann\"}",)"
                                 R"("transmissions":["{\"type\":\"welcome\"}"]})";

// Runs completions on its own thread, as a client event loop would. Declared before the backend
// in each test: until the backend is shut down its thread may still be inside a post to it.
class ReplyLoop {
 public:
  ReplyLoop() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~ReplyLoop() {
    work_.reset();
    thread_.join();
  }
  asio::any_io_executor executor() { return io_.get_executor(); }
  bool on_this_loop() { return io_.get_executor().running_in_this_thread(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

BackendOptions options_for(const std::string& url, std::chrono::milliseconds timeout = 3000ms,
                           unsigned concurrency = 28) {
  BackendOptions options;
  options.url = url;
  options.timeout = timeout;
  options.concurrency = concurrency;
  return options;
}

std::unique_ptr<HttpBackend> make_backend(BackendOptions options, HttpBackendTuning tuning = {}) {
  auto backend = HttpBackend::create(std::move(options), std::move(tuning));
  EXPECT_TRUE(backend) << backend.error().message();
  return backend ? std::move(*backend) : nullptr;
}

ConnectionRequest sample_connect() {
  ConnectionRequest request;
  request.env.url = "ws://example.com/cable";
  request.env.headers = {{"REMOTE_ADDR", "127.0.0.1"}, {"cookie", "u=ann"}};
  return request;
}

// Starts a call and waits for its completion (10 s at most, so a bug fails instead of hanging).
template <class Response, class Start>
result<Response> wait_for(Start start) {
  auto promise = std::make_shared<std::promise<result<Response>>>();
  auto future = promise->get_future();
  start([promise](result<Response> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "the completion never ran";
    return error_code(asio::error::timed_out);
  }
  return future.get();
}

result<ConnectionResponse> connect(HttpBackend& backend, ReplyLoop& loop,
                                   std::string sid = "sid-1") {
  return wait_for<ConnectionResponse>([&](auto done) {
    backend.connect(sample_connect(), CallMeta{std::move(sid)}, loop.executor(), done);
  });
}

Reply answer(unsigned status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

Reply ok(std::string body = kWelcome) { return answer(200, std::move(body)); }

// ---- what goes over the wire --------------------------------------------------------------------

TEST(HttpBackend, ConnectPostsTheRequestWithAnyCablesHeadersAndDecodesTheReply) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  auto options = options_for(server.url("/_anycable/"));
  options.secret = "s3cret";
  ReplyLoop loop;
  auto backend = make_backend(options);

  auto reply = connect(*backend, loop, "sid-42");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->identifiers, R"({"user":"ann"})");
  EXPECT_EQ(reply->transmissions, std::vector<std::string>{R"({"type":"welcome"})"});

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/_anycable/connect");
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(r.headers.at("x-anycable-meta-sid"), "sid-42");
  EXPECT_EQ(r.headers.at("x-anycable-meta-protov"), "v1");
  EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r.body, http::encode(sample_connect()));
}

TEST(HttpBackend, SendsNoAuthorizationWithoutASecret) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  ASSERT_TRUE(connect(*backend, loop));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/connect");
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);
}

TEST(HttpBackend, CommandAndDisconnectGoToTheirOwnPaths) {
  ScriptedHttpServer server([](const Request& r) {
    if (r.target == "/rpc/command") {
      return ok(R"({"status":1,"streams":["chat_1"],"transmissions":["confirm"]})");
    }
    return ok(R"({"status":1})");
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url("/rpc")));

  CommandMessage command;
  command.command = "subscribe";
  command.identifier = R"({"channel":"ChatChannel"})";
  command.connection_identifiers = R"({"user":"ann"})";
  auto subscribed = wait_for<CommandResponse>(
      [&](auto done) { backend->command(command, CallMeta{"s"}, loop.executor(), done); });
  ASSERT_TRUE(subscribed) << subscribed.error().message();
  EXPECT_EQ(subscribed->streams, std::vector<std::string>{"chat_1"});

  DisconnectRequest bye;
  bye.identifiers = R"({"user":"ann"})";
  bye.subscriptions = {command.identifier};
  auto closed = wait_for<DisconnectResponse>(
      [&](auto done) { backend->disconnect(bye, CallMeta{"s"}, loop.executor(), done); });
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, Status::success);

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/rpc/command");
  EXPECT_EQ(requests[0].body, http::encode(command));
  EXPECT_EQ(requests[1].target, "/rpc/disconnect");
  EXPECT_EQ(requests[1].body, http::encode(bye));
}

TEST(HttpBackend, ASidThatCouldForgeAHeaderLineIsNotSent) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  ASSERT_TRUE(connect(*backend, loop, "abc\r\nX-Evil: 1"));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.count("x-anycable-meta-sid"), 0u);
  EXPECT_EQ(requests[0].headers.count("x-evil"), 0u);
}

// ---- failures that are answered
// ------------------------------------------------------------------

TEST(HttpBackend, AServerErrorIsAnHttpStatusErrorAndIsNotRetried) {
  ScriptedHttpServer server([](const Request&) { return answer(500, "oops"); });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  auto reply = connect(*backend, loop);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::http_status);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpBackend, ARefusedSecretIsUnauthorized) {
  ScriptedHttpServer server([](const Request&) { return answer(401, ""); });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  auto reply = connect(*backend, loop);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::unauthorized);
}

TEST(HttpBackend, AGarbageBodyIsMalformedAndTheWrongShapeIsABadReply) {
  ScriptedHttpServer server([](const Request& r) {
    return r.connection == 1 && r.on_connection == 1 ? ok("<html>oops</html>") : ok("[1,2]");
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  auto garbage = connect(*backend, loop);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error(), Error::malformed_reply);
  auto array = connect(*backend, loop);
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error(), Error::bad_reply);
}

TEST(HttpBackend, AReplyOverTheSizeLimitIsRefusedAndItsConnectionNotReused) {
  ScriptedHttpServer server([](const Request& r) {
    if (r.connection == 1)
      return ok(R"({"status":1,"error_msg":")" + std::string(100000, 'x') + "\"}");
    return ok();
  });
  HttpBackendTuning tuning;
  tuning.max_reply_bytes = 64 * 1024;
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()), tuning);
  auto huge = connect(*backend, loop);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error(), Error::reply_too_large);
  ASSERT_TRUE(connect(*backend, loop));
  EXPECT_EQ(server.accepted(), 2u);
}

TEST(HttpBackend, TheDefaultSizeLimitIsSixteenMebibytes) {
  ScriptedHttpServer server([](const Request&) {
    return ok(R"({"status":1,"error_msg":")" + std::string(17u << 20, 'x') + "\"}");
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  auto huge = connect(*backend, loop);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error(), Error::reply_too_large);
}

TEST(HttpBackend, ABodyThatIsNotHttpIsMalformedAndACutReplyIsIncomplete) {
  ScriptedHttpServer server([](const Request& r) {
    Reply reply;
    reply.raw = r.connection == 1 ? "SSH-2.0-OpenSSH_9.2\r\n\r\n"
                                  : "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\":";
    return reply;
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  auto not_http = connect(*backend, loop);
  ASSERT_FALSE(not_http);
  EXPECT_EQ(not_http.error(), Error::malformed_reply);
  auto cut = connect(*backend, loop);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error(), Error::incomplete_reply);
}

// ---- slow and absent backends
// --------------------------------------------------------------------

TEST(HttpBackend, ASlowReplyTimesOutAndLeavesNothingPending) {
  ScriptedHttpServer server([](const Request& r) {
    Reply reply = ok();
    reply.hold = r.connection == 1;
    return reply;
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url(), 300ms, 1));
  auto slow = connect(*backend, loop);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error(), Error::timeout);
  // Concurrency 1: this call gets through only if the timed-out one gave back its slot, and on
  // a new connection, since the old one may still carry the late reply.
  auto next = connect(*backend, loop);
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(server.accepted(), 2u);
  server.release_held();
}

TEST(HttpBackend, ABackendRefusingConnectionsUntilTheDeadlineIsUnavailableNotTimedOut) {
  std::uint16_t port;
  {
    ScriptedHttpServer probe([](const Request&) { return ok(); });
    port = probe.port();
  }  // closed: connecting to it is refused
  ReplyLoop loop;
  auto backend = make_backend(options_for("http://127.0.0.1:" + std::to_string(port), 300ms));
  auto reply = connect(*backend, loop);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::unavailable);
}

TEST(HttpBackend, ARefusedConnectionIsRetriedUntilTheBackendAppears) {
  std::uint16_t port;
  {
    ScriptedHttpServer probe([](const Request&) { return ok(); });
    port = probe.port();
  }
  std::promise<error_code> first_retry;
  std::atomic<bool> retried{false};
  HttpBackendTuning tuning;
  tuning.on_retry = [&](error_code cause) {
    if (!retried.exchange(true)) first_retry.set_value(cause);
  };
  ReplyLoop loop;
  auto backend =
      make_backend(options_for("http://127.0.0.1:" + std::to_string(port), 10000ms), tuning);
  auto promise = std::make_shared<std::promise<result<ConnectionResponse>>>();
  auto future = promise->get_future();
  backend->connect(sample_connect(), CallMeta{"s"}, loop.executor(),
                   [promise](result<ConnectionResponse> r) { promise->set_value(std::move(r)); });

  auto retry = first_retry.get_future();
  ASSERT_EQ(retry.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(retry.get(), asio::error::connection_refused);
  ScriptedHttpServer server([](const Request&) { return ok(); }, {.port = port});

  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto reply = future.get();
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
}

TEST(HttpBackend, A503IsRetriedWithBackOff) {
  ScriptedHttpServer server([](const Request& r) {
    return r.connection == 1 && r.on_connection == 1 ? answer(503, "busy") : ok();
  });
  std::atomic<int> retries{0};
  HttpBackendTuning tuning;
  tuning.on_retry = [&](error_code) { ++retries; };
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()), tuning);
  auto reply = connect(*backend, loop);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(retries.load(), 1);
}

// ---- pooling and concurrency
// ---------------------------------------------------------------------

TEST(HttpBackend, SequentialCallsReuseOneKeepAliveConnection) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(connect(*backend, loop));
  EXPECT_EQ(server.requests().size(), 20u);
  EXPECT_EQ(server.accepted(), 1u);
}

TEST(HttpBackend, AConnectionTheServerClosedWhileIdleIsNotUsed) {
  ScriptedHttpServer server([](const Request&) {
    Reply reply = ok();
    reply.close_after = true;  // says "Connection: close"
    return reply;
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(connect(*backend, loop));
  EXPECT_EQ(server.accepted(), 3u);
}

TEST(HttpBackend, AReusedConnectionClosedBeforeTheReplyIsRetriedAtOnceOnANewOne) {
  // The second request on a connection is dropped, as a server whose keep-alive timeout fires
  // just as the request arrives would.
  ScriptedHttpServer server([](const Request& r) {
    Reply reply = ok();
    reply.drop = r.on_connection == 2;
    return reply;
  });
  std::atomic<int> backoffs{0};
  HttpBackendTuning tuning;
  tuning.on_retry = [&](error_code) { ++backoffs; };
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()), tuning);
  ASSERT_TRUE(connect(*backend, loop));
  auto reply = connect(*backend, loop);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(server.accepted(), 2u);
  EXPECT_EQ(backoffs.load(), 0);
}

TEST(HttpBackend, CallsBeyondTheConcurrencyWaitInTheQueue) {
  ScriptedHttpServer server([](const Request&) {
    Reply reply = ok();
    reply.hold = true;
    return reply;
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url(), 10000ms, 2));
  std::atomic<int> succeeded{0};
  std::atomic<int> remaining{3};
  std::promise<void> all_done;
  for (int i = 0; i < 3; ++i) {
    backend->connect(sample_connect(), CallMeta{"s"}, loop.executor(),
                     [&](result<ConnectionResponse> r) {
                       if (r) ++succeeded;
                       if (--remaining == 0) all_done.set_value();
                     });
  }
  ASSERT_TRUE(server.wait_for_held(2));
  server.release_held();
  // The third request reaches the server only once a slot is free.
  ASSERT_TRUE(server.wait_for_held(3));
  server.release_held();
  ASSERT_EQ(all_done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(succeeded.load(), 3);
  EXPECT_EQ(server.max_in_flight(), 2u);
}

TEST(HttpBackend, ManyCallsStayWithinTheConcurrencyAndCompleteOnTheirOwnLoops) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  ReplyLoop loops[3];
  auto backend = make_backend(options_for(server.url(), 10000ms, 4));
  constexpr int kCalls = 200;
  std::atomic<int> succeeded{0};
  std::atomic<int> wrong_loop{0};
  std::promise<void> all_done;
  std::atomic<int> remaining{kCalls};
  for (int i = 0; i < kCalls; ++i) {
    ReplyLoop& loop = loops[i % 3];
    backend->connect(sample_connect(), CallMeta{"sid-" + std::to_string(i)}, loop.executor(),
                     [&, expected = &loop](result<ConnectionResponse> r) {
                       if (r) ++succeeded;
                       if (!expected->on_this_loop()) ++wrong_loop;
                       if (--remaining == 0) all_done.set_value();
                     });
  }
  ASSERT_EQ(all_done.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(succeeded.load(), kCalls);
  EXPECT_EQ(wrong_loop.load(), 0);
  EXPECT_LE(server.max_in_flight(), 4u);
  EXPECT_LE(server.accepted(), 4u);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kCalls));
}

// ---- completion rules and shutdown
// ---------------------------------------------------------------

TEST(HttpBackend, ACompletionNeverRunsInsideTheCall) {
  ScriptedHttpServer server([](const Request&) { return ok(); });
  asio::io_context caller;  // run only by this thread, after the call returned
  auto work = asio::make_work_guard(caller);
  auto backend = make_backend(options_for(server.url()));
  int calls = 0;
  backend->connect(sample_connect(), CallMeta{"s"}, caller.get_executor(),
                   [&](result<ConnectionResponse> r) {
                     EXPECT_TRUE(r);
                     ++calls;
                   });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(caller.run_one_for(10s), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(HttpBackend, ShutdownFailsQueuedAndInFlightCallsAndRefusesNewOnes) {
  ScriptedHttpServer server([](const Request&) {
    Reply reply = ok();
    reply.hold = true;
    return reply;
  });
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url(), 10000ms, 1));
  std::atomic<int> aborted{0};
  std::atomic<int> other{0};
  auto count = [&](result<ConnectionResponse> r) {
    (!r && r.error() == asio::error::operation_aborted ? aborted : other)++;
  };
  for (int i = 0; i < 3; ++i)
    backend->connect(sample_connect(), CallMeta{"s"}, loop.executor(), count);
  ASSERT_TRUE(server.wait_for_held(1));  // one in flight, two queued
  backend->shutdown();
  backend->shutdown();  // idempotent

  asio::io_context caller;
  int late = 0;
  backend->connect(sample_connect(), CallMeta{"s"}, caller.get_executor(),
                   [&](result<ConnectionResponse> r) {
                     EXPECT_EQ(r.error(), asio::error::operation_aborted);
                     ++late;
                   });
  EXPECT_EQ(late, 0);
  caller.run();
  EXPECT_EQ(late, 1);

  // The loop runs the three completions posted before shutdown returned; fence on one more post.
  std::promise<void> fence;
  asio::post(loop.executor(), [&] { fence.set_value(); });
  fence.get_future().wait();
  EXPECT_EQ(aborted.load(), 3);
  EXPECT_EQ(other.load(), 0);
  server.release_held();
}

// ---- construction and TLS
// ------------------------------------------------------------------------

TEST(HttpBackendCreate, RefusesABadUrlAndImpossibleOptions) {
  auto bad = HttpBackend::create(options_for("grpc://localhost:50051"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), Error::bad_url);
  EXPECT_FALSE(HttpBackend::create(options_for("http://localhost:1", 3000ms, 0)));
  EXPECT_FALSE(HttpBackend::create(options_for("http://localhost:1", 0ms)));
  auto secret = options_for("http://localhost:1");
  secret.secret = "abc\n";
  EXPECT_FALSE(HttpBackend::create(secret));
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/cablecast-rpc-XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(HttpBackendTls, CallsAnHttpsBackendWhoseCertificateItTrusts) {
  auto certificate = testing::make_self_signed_certificate();
  ScriptedHttpServer server([](const Request&) { return ok(); }, {.tls = &certificate});
  TempFile ca(certificate.certificate_pem);
  HttpBackendTuning tuning;
  tuning.tls_ca_file = ca.path();
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url("/rpc")), tuning);
  for (int i = 0; i < 3; ++i) {
    auto reply = connect(*backend, loop);
    ASSERT_TRUE(reply) << reply.error().message();
  }
  EXPECT_EQ(server.accepted(), 1u);
}

TEST(HttpBackendTls, RefusesACertificateItDoesNotTrustWithoutRetrying) {
  auto certificate = testing::make_self_signed_certificate();
  ScriptedHttpServer server([](const Request&) { return ok(); }, {.tls = &certificate});
  std::atomic<int> retries{0};
  HttpBackendTuning tuning;
  tuning.on_retry = [&](error_code) { ++retries; };
  ReplyLoop loop;
  auto backend = make_backend(options_for(server.url()), tuning);
  auto reply = connect(*backend, loop);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::tls_failed);
  EXPECT_EQ(retries.load(), 0);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpBackendTls, AMissingCaFileFailsAtCreation) {
  HttpBackendTuning tuning;
  tuning.tls_ca_file = "/nonexistent/ca.pem";
  auto backend = HttpBackend::create(options_for("https://127.0.0.1:1"), tuning);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error(), Error::tls_failed);
}

}  // namespace
}  // namespace cablecast::rpc
