#pragma once
// One subscription, whatever serves it: a C++ channel (ChannelSubscription) or the application
// over RPC (RpcSubscription). This base holds what every source shares: the identifier, the
// streams it receives, and the confirmation rule. A subscription is confirmed only once every
// stream it asked for is live on the broker (Rails' deferral counter); what was transmitted
// meanwhile goes first, stream deliveries that arrived early right after the confirmation.
#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub.hpp"
#include "protocol/command.hpp"
#include "session/identifier_pool.hpp"
#include "session/stream_positions.hpp"

namespace cablecast::session {

class Session;

class Subscription : public hub::Subscriber, public std::enable_shared_from_this<Subscription> {
 public:
  enum class Phase : std::uint8_t { subscribing, confirmed, stopped };
  // Why a subscription stops: the client unsubscribed, it was rejected, or the connection
  // closed (then an RPC application hears of it through one disconnect call instead of an
  // unsubscribe each).
  enum class StopCause : std::uint8_t { unsubscribe, rejected, connection_closed };

  Subscription(Session& session, std::string identifier);
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  virtual ~Subscription();

  // Starts subscribing. Ends in confirm or reject, now or later; the session hears of it
  // through Session::on_subscription_settled.
  virtual void start() = 0;
  // A "message" command: `data` is the client's data string, verbatim.
  virtual void perform(std::string_view data) = 0;
  // Stops every stream and timer and tells the source (once). Idempotent.
  void stop(StopCause cause);
  // Whether the application behind it must hear of the connection's end (RPC sources).
  virtual bool served_by_rpc() const { return false; }

  Phase phase() const { return phase_; }
  Session& session() const { return session_; }

  // hub::Subscriber
  std::string_view identifier() const override { return identifier_.view(); }
  const std::string& identifier_string() const { return identifier_.str(); }
  void deliver(const SharedFrame& frame) override;
  void deliver_positioned(const SharedFrame& frame, std::string_view stream,
                          const broadcast::Meta& position) override;
  std::string_view socket_id() const override;  // the session's sid

  // The streams it receives, in the order they were added.
  const std::vector<std::string>& streams() const { return streams_; }

  // AnyCable's extensions of a subscription, made on first use: most subscriptions of plain
  // Action Cable clients never need them, and pay one pointer.
  struct Extensions {
    StreamPositions positions;      // ext-protocol sessions: what was sent, what is held
    std::string whisper_stream;     // AnyCable's "$w": where whispers go; empty: not allowed
    std::string presence_stream;    // AnyCable's "$p": whose presence it joins; empty: none
    std::string presence_id;        // the id this session joined with; empty: not joined
    std::string presence_info;      // and its info (JSON), kept for a restore
    bool restored = false;          // re-created from a cached session: no confirmation frame
    bool awaiting_history = false;  // restored: live messages held for the client's history
    // What the subscribe command asked for once confirmed (AnyCable's "history" and
    // "presence" keys of subscribe); freed once done, so a confirmed subscription does not
    // carry it.
    struct AfterConfirm {
      std::optional<protocol::HistoryRequest> history;
      std::optional<protocol::PresenceRequest> join;
    };
    std::unique_ptr<AfterConfirm> after_confirm;
  };
  Extensions& extensions();
  const Extensions* find_extensions() const { return ext_.get(); }
  // Sends the frames a hold kept back (history sent, or never asked for).
  void release_held();

 protected:
  // The source's own part of stop(): runs once, before the streams are dropped.
  virtual void on_stop(StopCause cause) = 0;

  // Streams. While subscribing, each new stream holds the confirmation until it is live.
  void add_stream(std::string_view stream);
  void remove_stream(std::string_view stream);
  void remove_all_streams();
  bool has_streams() const { return !streams_.empty(); }

  // Something the confirmation must wait for (a stream, a blocking job, an RPC reply).
  void hold() { ++pending_; }
  // One pending thing finished: settles (confirm or reject) once nothing is pending.
  void release();
  // The subscription will be rejected when it settles.
  void mark_rejected() { rejected_ = true; }
  bool is_rejected() const { return rejected_; }
  // Sends what confirms or rejects this subscription; the default sends Action Cable's
  // confirm_subscription / reject_subscription. RPC sources forward the application's own.
  virtual void send_confirmation();
  virtual void send_rejection();
  // A stream could not be made live: the source decides (C++: reject while subscribing).
  virtual void on_stream_failed(const std::string& stream, boost::system::error_code ec);
  // For log lines: the channel's name.
  virtual std::string_view source_name() const = 0;

 private:
  void on_stream_ready(boost::system::error_code ec, const std::string& stream);

  Session& session_;
  PooledIdentifier identifier_;  // the loop's one copy (IdentifierPool)
  std::vector<std::string> streams_;
  // Stream frames that arrived before the confirmation; made by the first one, freed once sent.
  std::unique_ptr<std::vector<SharedFrame>> early_;
  std::unique_ptr<Extensions> ext_;
  int pending_ = 0;
  Phase phase_ = Phase::subscribing;
  bool rejected_ = false;
};

}  // namespace cablecast::session
