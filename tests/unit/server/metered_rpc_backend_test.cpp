#include "server/metered_rpc_backend.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/system/errc.hpp>

#include "fake_rpc_backend.hpp"

namespace cablecast::server {
namespace {

using metrics::RpcMethod;
using metrics::RpcOutcome;

struct MeteredRpcBackendTest : ::testing::Test {
  boost::asio::io_context io;
  testing::FakeRpcBackend backend;
  metrics::LoopMetrics counters;
  MeteredRpcBackend metered{backend, counters};
  int answered = 0;

  std::uint64_t calls(RpcMethod method, RpcOutcome outcome) const {
    return counters
        .rpc_calls[static_cast<std::size_t>(method) * metrics::kRpcOutcomeLabels.size() +
                   static_cast<std::size_t>(outcome)]
        .value();
  }
  std::uint64_t timed(RpcMethod method) const {
    std::uint64_t total = 0;
    const auto& histogram = counters.rpc_duration[static_cast<std::size_t>(method)];
    for (std::size_t i = 0; i <= metrics::kRpcBuckets.size(); ++i) {
      total += histogram.bucket_count(i);
    }
    return total;
  }
};

TEST_F(MeteredRpcBackendTest, CountsACallByItsMethodAndTheApplicationsStatusOnceAnswered) {
  metered.connect({}, {}, io.get_executor(), [&](auto) { ++answered; });
  EXPECT_EQ(calls(RpcMethod::connect, RpcOutcome::success), 0u) << "not before the answer";
  rpc::ConnectionResponse reply;
  reply.status = rpc::Status::failure;
  backend.reply_connect(reply);
  io.run();
  EXPECT_EQ(answered, 1) << "the caller still gets the answer";
  EXPECT_EQ(calls(RpcMethod::connect, RpcOutcome::failure), 1u);
  EXPECT_EQ(calls(RpcMethod::connect, RpcOutcome::success), 0u);
  EXPECT_EQ(timed(RpcMethod::connect), 1u);
}

TEST_F(MeteredRpcBackendTest, CountsACallWithoutAnAnswerAsUnavailable) {
  metered.command({}, {}, io.get_executor(), [&](auto) { ++answered; });
  backend.reply_command(boost::system::errc::make_error_code(boost::system::errc::timed_out));
  io.run();
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(calls(RpcMethod::command, RpcOutcome::unavailable), 1u);
  EXPECT_EQ(timed(RpcMethod::command), 1u);
  EXPECT_EQ(timed(RpcMethod::connect), 0u);
}

TEST_F(MeteredRpcBackendTest, LeavesShutdownToTheServerThatOwnsTheBackend) {
  metered.shutdown();
  metered.command({}, {}, io.get_executor(), [](auto) {});
  EXPECT_EQ(backend.commands.size(), 1u) << "the shared backend still takes calls";
}

}  // namespace
}  // namespace cablecast::server
