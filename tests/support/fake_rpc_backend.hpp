#pragma once
// An rpc::Backend whose calls a test answers by hand: every call is recorded with its request,
// and reply_*() posts the completion to the executor the caller gave, as a real transport does
// (never inside the call).
#include <boost/asio/post.hpp>
#include <deque>
#include <string>

#include "rpc/backend.hpp"

namespace cablecast::testing {

class FakeRpcBackend final : public rpc::Backend {
 public:
  template <class Request, class Response>
  struct Call {
    Request request;
    rpc::CallMeta meta;
    boost::asio::any_io_executor executor;
    rpc::Completion<Response> done;
  };

  void connect(rpc::ConnectionRequest request, rpc::CallMeta meta,
               boost::asio::any_io_executor reply_on,
               rpc::Completion<rpc::ConnectionResponse> done) override {
    connects.push_back({std::move(request), std::move(meta), reply_on, std::move(done)});
  }
  void command(rpc::CommandMessage request, rpc::CallMeta meta,
               boost::asio::any_io_executor reply_on,
               rpc::Completion<rpc::CommandResponse> done) override {
    commands.push_back({std::move(request), std::move(meta), reply_on, std::move(done)});
  }
  void disconnect(rpc::DisconnectRequest request, rpc::CallMeta meta,
                  boost::asio::any_io_executor reply_on,
                  rpc::Completion<rpc::DisconnectResponse> done) override {
    disconnects.push_back({std::move(request), std::move(meta), reply_on, std::move(done)});
  }
  void shutdown() override {}

  // Answers the oldest unanswered call of its kind.
  void reply_connect(boost::system::result<rpc::ConnectionResponse> reply) {
    answer(connects, connects_answered, std::move(reply));
  }
  void reply_command(boost::system::result<rpc::CommandResponse> reply) {
    answer(commands, commands_answered, std::move(reply));
  }

  std::deque<Call<rpc::ConnectionRequest, rpc::ConnectionResponse>> connects;
  std::deque<Call<rpc::CommandMessage, rpc::CommandResponse>> commands;
  std::deque<Call<rpc::DisconnectRequest, rpc::DisconnectResponse>> disconnects;
  std::size_t connects_answered = 0;
  std::size_t commands_answered = 0;

 private:
  template <class Calls, class Reply>
  static void answer(Calls& calls, std::size_t& answered, Reply reply) {
    auto& call = calls.at(answered++);
    boost::asio::post(call.executor, [done = call.done, reply = std::move(reply)]() mutable {
      done(std::move(reply));
    });
  }
};

}  // namespace cablecast::testing
