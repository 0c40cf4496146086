// GrpcBackend's control of its calls, against a real gRPC server: deadlines (queueing
// included), the concurrency limit and its FIFO queue, retries while the application is down,
// shutdown and destruction with calls out. Calls the test needs in flight use server.rb's
// `hold` gates; their records on the server's output are the fences, never sleeps.
#include <gtest/gtest.h>

#include "backend_harness.hpp"

namespace cablecast::rpc::testing {
namespace {

using boost::system::error_code;

CommandMessage hold(const std::string& gate) { return perform("hold", {{"gate", gate}}); }
CommandMessage release(const std::string& gate) { return perform("release", {{"gate", gate}}); }
CommandMessage speak(const std::string& text) { return perform("speak", {{"text", text}}); }

// Opens a gate from a backend of its own (the one under test may have no place left).
void open_gate(GrpcTestServer& server, Caller& caller, const std::string& gate) {
  auto other = make_backend(server.url(), 1);
  Outcome<CommandResponse> out;
  other->command(release(gate), meta("releaser"), caller.executor(), caller.into(out));
  ASSERT_TRUE(caller.wait(out));
}

TEST(GrpcBackendDeadline, ACallPastItsDeadlineFailsWithTimeout) {
  Caller caller;
  GrpcTestServer server;
  auto backend = make_backend(server.url(), 4, 300ms);

  Outcome<CommandResponse> out;
  backend->command(perform("slow", {{"seconds", 5}}), meta("sid-1"), caller.executor(),
                   caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), grpc::Error::timeout);
}

TEST(GrpcBackendDeadline, TimeSpentWaitingForAPlaceCountsInTheDeadline) {
  Caller caller;
  GrpcTestServer server;
  auto backend = make_backend(server.url(), 1, 1s);
  // Connected first: on a busy machine the channel's first connection could otherwise fail the
  // held call early (unavailable), freeing the place before the deadline this test is about.
  Outcome<CommandResponse> warm;
  backend->command(speak("warm"), meta("sid-0"), caller.executor(), caller.into(warm));
  ASSERT_TRUE(caller.wait(warm));
  server.next_call();

  Outcome<CommandResponse> held, waiting;
  backend->command(hold("g"), meta("sid-1"), caller.executor(), caller.into(held));
  backend->command(speak("queued"), meta("sid-2"), caller.executor(), caller.into(waiting));

  // The held call keeps the only place until its deadline, which is also (within microseconds)
  // the queued one's: had the clock started when the call got its place, the quick `speak`
  // would succeed.
  auto queued = caller.wait(waiting);
  ASSERT_FALSE(queued);
  EXPECT_EQ(queued.error(), grpc::Error::timeout);
  auto first = caller.wait(held);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), grpc::Error::timeout);
}

TEST(GrpcBackendConcurrency, CallsBeyondTheLimitWaitAndLeaveTheQueueInOrder) {
  Caller caller;
  GrpcTestServer server;
  auto backend = make_backend(server.url(), 1);

  Outcome<CommandResponse> held, second, third;
  backend->command(hold("g"), meta("held"), caller.executor(), caller.into(held));
  backend->command(speak("second"), meta("second"), caller.executor(), caller.into(second));
  backend->command(speak("third"), meta("third"), caller.executor(), caller.into(third));
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "held");

  // While the held call is out, the others stay here: the server's next record is the release
  // sent from elsewhere, and only then the waiting calls, in the order they were made.
  open_gate(server, caller, "g");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "releaser");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "second");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "third");
  EXPECT_TRUE(caller.wait(held));
  EXPECT_TRUE(caller.wait(second));
  EXPECT_TRUE(caller.wait(third));
}

TEST(GrpcBackendRetry, AnApplicationThatIsDownFailsWithUnavailableNotTimeout) {
  Caller caller;
  const std::string url = [] {
    GrpcTestServer gone;  // a port that was just free, and is free again
    return gone.url();
  }();
  auto backend = make_backend(url, 4, 1s);

  Outcome<ConnectionResponse> out;
  backend->connect(connect_request("ws://example.test/cable?user=alice"), meta("sid-1"),
                   caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), grpc::Error::unavailable);
}

TEST(GrpcBackendRetry, ACallMadeWhileTheApplicationIsDownSucceedsOnceItIsUp) {
  Caller caller;
  unsigned port = 0;
  {
    GrpcTestServer gone;
    port = gone.port();
  }
  const std::string url = "grpc://127.0.0.1:" + std::to_string(port);
  auto patient = make_backend(url, 4, 20s);
  Outcome<ConnectionResponse> out;
  patient->connect(connect_request("ws://example.test/cable?user=alice"), meta("patient"),
                   caller.executor(), caller.into(out));

  // Fence: a call made after the patient one has failed as unavailable, so the patient call
  // was out while nothing listened.
  auto hasty = make_backend(url, 4, 300ms);
  Outcome<ConnectionResponse> probe;
  hasty->connect(connect_request("ws://example.test/cable?user=bob"), meta("hasty"),
                 caller.executor(), caller.into(probe));
  auto refused = caller.wait(probe);
  ASSERT_FALSE(refused);
  ASSERT_EQ(refused.error(), grpc::Error::unavailable);
  ASSERT_FALSE(out.result);

  GrpcTestServer server(port);
  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->identifiers, R"({"user":"alice"})");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "patient");
}

TEST(GrpcBackendShutdown, CallsOutAndWaitingAreAbortedAndNewOnesRefused) {
  Caller caller;
  GrpcTestServer server;
  auto backend = make_backend(server.url(), 1);

  Outcome<CommandResponse> held, waiting, late;
  backend->command(hold("g"), meta("held"), caller.executor(), caller.into(held));
  backend->command(speak("waiting"), meta("waiting"), caller.executor(), caller.into(waiting));
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "held");  // now in flight

  backend->shutdown();
  backend->shutdown();  // idempotent
  backend->command(speak("late"), meta("late"), caller.executor(), caller.into(late));
  EXPECT_FALSE(late.result);  // never inside the call

  for (auto* out : {&held, &waiting, &late}) {
    auto reply = caller.wait(*out);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error(), error_code(boost::asio::error::operation_aborted));
  }

  // The waiting call never reached the application: after the gate's release, the server's
  // next record is the releaser's own.
  open_gate(server, caller, "g");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "releaser");
}

TEST(GrpcBackendShutdown, DestroyingTheBackendAbortsTheCallInFlight) {
  Caller caller;
  GrpcTestServer server;
  auto backend = make_backend(server.url(), 1);

  Outcome<CommandResponse> held;
  backend->command(hold("g"), meta("held"), caller.executor(), caller.into(held));
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "held");

  backend.reset();
  auto reply = caller.wait(held);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), error_code(boost::asio::error::operation_aborted));
}

// gRPC 1.51 crashed (about one run in five) when channels that had used the callback API were
// destroyed and made again in turn; GrpcBackend keeps one channel per target (channel_to()).
TEST(GrpcBackendLifetime, BackendsMadeUsedAndDestroyedInTurnKeepWorking) {
  Caller caller;
  GrpcTestServer server;
  for (int i = 0; i < 300; ++i) {
    auto backend = make_backend(server.url());
    Outcome<CommandResponse> out;
    backend->command(speak("again"), meta("sid-" + std::to_string(i)), caller.executor(),
                     caller.into(out));
    ASSERT_TRUE(caller.wait(out)) << "backend " << i;
    ASSERT_EQ(server.next_call().at("metadata").at("sid").as_string(), "sid-" + std::to_string(i));
  }
}

}  // namespace
}  // namespace cablecast::rpc::testing
