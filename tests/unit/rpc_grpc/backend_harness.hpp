#pragma once
// Shared by the GrpcBackend tests: the caller's side (an io_context the test thread runs, as an
// event loop would), completions captured into Outcome slots, and request builders.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "grpc_backend/test_server.hpp"
#include "rpc/grpc/grpc_backend.hpp"
#include "rpc/grpc/grpc_error.hpp"

namespace cablecast::rpc::testing {

using namespace std::chrono_literals;
using cablecast::testing::GrpcTestServer;

// Where a completion lands, and on which thread it ran.
template <class Response>
struct Outcome {
  std::optional<boost::system::result<Response>> result;
  std::thread::id thread;
};

class Caller {
 public:
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  template <class Response>
  Completion<Response> into(Outcome<Response>& outcome) {
    return [&outcome](boost::system::result<Response> result) {
      EXPECT_FALSE(outcome.result) << "a completion ran twice";
      outcome.result = std::move(result);
      outcome.thread = std::this_thread::get_id();
    };
  }

  // Runs completions until `outcome` has one (the test fails if none comes in 30 s).
  template <class Response>
  boost::system::result<Response> wait(Outcome<Response>& outcome) {
    const auto give_up = std::chrono::steady_clock::now() + GrpcTestServer::kPatience;
    while (!outcome.result && std::chrono::steady_clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    if (!outcome.result) {
      ADD_FAILURE() << "no completion";
      return boost::system::error_code(boost::asio::error::timed_out);
    }
    return *outcome.result;
  }

  void poll() { io_.poll(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
};

inline std::unique_ptr<Backend> make_backend(const std::string& url, unsigned concurrency = 4,
                                             std::chrono::milliseconds timeout = 10s) {
  BackendOptions options;
  options.url = url;
  options.concurrency = concurrency;
  options.timeout = timeout;
  auto backend = GrpcBackend::create(options);
  EXPECT_TRUE(backend) << backend.error().message();
  return backend ? std::move(*backend) : nullptr;
}

inline const std::string kRoom42 = R"({"channel":"ChatChannel","room":"42"})";

inline ConnectionRequest connect_request(std::string url, StringMap headers = {}) {
  ConnectionRequest request;
  request.env.url = std::move(url);
  request.env.headers = std::move(headers);
  return request;
}

// A `message` command performing `action` (data {"action": action, ...extra}).
inline CommandMessage perform(const std::string& action, boost::json::object extra = {},
                              std::string identifier = kRoom42) {
  extra["action"] = action;
  CommandMessage message;
  message.command = "message";
  message.identifier = std::move(identifier);
  message.connection_identifiers = R"({"user":"alice"})";
  message.data = boost::json::serialize(extra);
  message.env.url = "ws://example.test/cable";
  return message;
}

inline CallMeta meta(std::string sid) { return CallMeta{.sid = std::move(sid)}; }

// A field of a server.rb call record: record["request"][a][b]… (JSON objects compare equal
// whatever their key order, which protobuf maps do not keep).
inline const boost::json::value& field(const boost::json::object& record,
                                       std::initializer_list<const char*> path) {
  const boost::json::value* at = &record.at("request");
  for (const char* key : path) at = &at->at(key);
  return *at;
}

}  // namespace cablecast::rpc::testing
