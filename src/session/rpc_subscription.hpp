#pragma once
// A subscription served by the application over RPC (a channel not registered in C++ on a
// server with --rpc-url). Every command becomes one call; a reply is applied in AnyCable's
// order: stop streams, then streams, then state, then transmissions (forwarded verbatim, so
// the application's own confirm/reject frames reach the client), then disconnect. Transmissions
// of the subscribe reply wait until its streams are live, so the confirmation never promises a
// delivery the broker cannot make yet.
#include <string>
#include <vector>

#include "rpc/messages.hpp"
#include "session/subscription.hpp"

namespace cablecast::session {

class RpcSubscription final : public Subscription {
 public:
  RpcSubscription(Session& session, std::string identifier, std::string channel_name);
  ~RpcSubscription() override;

  void start() override;                         // the "subscribe" call
  void perform(std::string_view data) override;  // the "message" call
  bool served_by_rpc() const override { return true; }
  // This subscription's state, as the disconnect call carries it (JSON-encoded map).
  std::string istate_json() const;
  const rpc::StringMap& istate() const { return istate_; }
  // A restored session (session_state.hpp): streams and state back as they were, no call.
  void restore(rpc::StringMap istate, const std::vector<std::string>& streams);

 private:
  void on_stop(StopCause cause) override;
  std::string_view source_name() const override { return channel_; }
  void send_confirmation() override;
  void send_rejection() override;
  void on_subscribed(boost::system::result<rpc::CommandResponse> reply);
  void on_performed(boost::system::result<rpc::CommandResponse> reply);
  // Streams and state of a successful reply (not its transmissions).
  void apply_streams_and_state(const rpc::CommandResponse& reply);
  // AnyCable marks a subscription's whisper and presence streams in its state ("$w", "$p").
  void read_extension_streams();

  std::string channel_;
  rpc::StringMap istate_;
  std::vector<std::string> held_transmissions_;  // the subscribe reply's, until settled
};

}  // namespace cablecast::session
