#pragma once
// The stream index of one node: which subscriptions stream from which broadcasting.
//
// One HubShard per event loop, touched only by that loop's thread, so delivery takes no lock.
// A broadcast reaches the node once (from the pub/sub adapter) and is posted to every shard:
// one closure per loop, not per connection. Each shard encodes the frame once per distinct
// identifier among its subscribers and queues the same bytes on every connection.
//
// A publication from the application may carry meta (broadcast/publication.hpp): the subscriber
// of one session is skipped (exclude_socket), or every frame gets a "type" (broadcast_type).
// Other nodes receive that meta in an envelope (broadcast/envelope.hpp), which Hub::deliver
// unwraps once per node; plain broadcasts cost nothing more than before.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broadcast/publication.hpp"
#include "broker/history.hpp"
#include "core/loop_metrics.hpp"
#include "core/shared_frame.hpp"
#include "hub/frame_builder.hpp"
#include "pubsub/adapter.hpp"

namespace cablecast::hub {

// Streams the server uses for itself (the health canary, server/health_canary.hpp) start with
// this: they are not client traffic, so the hub leaves them out of the broadcast and fan-out
// metrics (a scrape must show what clients did, exactly).
inline constexpr std::string_view kInternalStreamPrefix = "__cablecast_";
inline bool is_internal_stream(std::string_view stream) {
  return stream.starts_with(kInternalStreamPrefix);
}

// A subscription as the hub sees it. Lives on the shard's loop.
class Subscriber {
 public:
  // The identifier echoed in every frame; frames are shared among equal identifiers.
  virtual std::string_view identifier() const = 0;
  // Takes a ready {"identifier":…,"message":…} text frame. Must not call back into the hub.
  virtual void deliver(const SharedFrame& frame) = 0;
  // For subscribers that want_positions(): a broadcast that has a place in its stream's history
  // (meta.offset != 0), framed with "stream_id", "epoch" and "offset" (AnyCable's extended
  // protocol). The subscriber may hold it (history being sent) or drop it (already sent).
  virtual void deliver_positioned(const SharedFrame& frame, std::string_view stream,
                                  const broadcast::Meta& position) {
    (void)stream;
    (void)position;
    deliver(frame);
  }
  // The id (sid) of the connection this subscriber belongs to, which a publication may exclude
  // (meta.exclude_socket). Asked only while delivering such a publication.
  virtual std::string_view socket_id() const { return {}; }
  // A flag, not a virtual call: the hub asks it per subscriber and delivery.
  bool wants_positions() const { return wants_positions_; }

 protected:
  ~Subscriber() = default;
  bool wants_positions_ = false;
};

// Takes a stream's messages as JSON text instead of frames: a connection listening on its
// internal broadcasting (Rails' remote disconnect, broadcast/remote_disconnect.hpp). Lives on
// the shard's loop.
class Listener {
 public:
  // Must not call back into the hub (closing the connection is fine: that is reported later).
  virtual void on_stream_message(std::string_view message) = 0;

 protected:
  ~Listener() = default;
};

using ReadyFn = std::function<void(boost::system::error_code)>;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

class HubShard {
 public:
  // `keep_unused`: how long a stream nobody on this loop subscribes to any more stays on the
  // broker (0: it leaves at once). See Hub::set_history. `metrics`: the loop's counters (null:
  // the shard counts into a block of its own, for tests and benchmarks).
  // `frames` makes the wire frames of broadcasts (frame_builder.hpp); it outlives the shard.
  HubShard(boost::asio::io_context& io, pubsub::Adapter& adapter, const FrameBuilder& frames,
           std::chrono::seconds keep_unused = std::chrono::seconds(0),
           metrics::LoopMetrics* metrics = nullptr);
  ~HubShard();
  HubShard(const HubShard&) = delete;
  HubShard& operator=(const HubShard&) = delete;

  // Adds `subscriber` to `stream`. `on_ready` runs on this loop once the stream is live on the
  // broker: at once (synchronously) when it already is, later otherwise. The same subscriber
  // must not be added twice to one stream (the session deduplicates).
  void subscribe(const std::string& stream, Subscriber* subscriber, ReadyFn on_ready);

  // Removes `subscriber` from `stream`; unknown pairs are ignored.
  void unsubscribe(std::string_view stream, Subscriber* subscriber);

  // The same for a listener: it gets the stream's messages as they are, with no frame.
  void listen(const std::string& stream, Listener* listener, ReadyFn on_ready);
  void unlisten(std::string_view stream, Listener* listener);

  // Delivers a broadcast to this shard's subscribers and listeners, honouring `meta` (none: a
  // plain broadcast). On this loop only.
  void deliver(std::string_view stream, const pubsub::Payload& payload,
               const broadcast::Meta* meta = nullptr);

  // Leaves the broker's streams kept unused past their time (keep_unused). The loop calls it
  // periodically (on its ping ticks); on this loop only.
  void forget_unused_streams(std::chrono::steady_clock::time_point now);

  std::size_t stream_count() const { return streams_.size(); }
  // The first shard counts each broadcast the node receives from the adapter (once per node:
  // every shard gets every broadcast). Set by Hub::add_shard.
  void count_received_broadcasts() { counts_received_ = true; }
  const metrics::LoopMetrics& metrics() const { return metrics_; }
  std::size_t subscriber_count(std::string_view stream) const;
  boost::asio::io_context& io() { return io_; }

 private:
  struct Stream {
    std::vector<Subscriber*> subscribers;
    std::vector<Listener*> listeners;
    std::vector<ReadyFn> waiting;  // on_ready callbacks until the broker confirms
    std::uint64_t epoch = 0;       // tells a late confirmation of an earlier life to go away
    bool ready = false;
    std::chrono::steady_clock::time_point unused_until{};  // kept unused until then
  };
  using StreamMap = std::unordered_map<std::string, Stream, StringHash, std::equal_to<>>;

  // Adds a subscriber or listener (`add` does) to the stream's entry, asking the broker for the
  // stream when the entry is new; `on_ready` runs now or once the broker confirms.
  template <class Add>
  void join(const std::string& stream, ReadyFn on_ready, Add add);
  // Forgets the stream, and tells the broker, once nobody on this loop needs it any more.
  void leave_if_unused(StreamMap::iterator it);
  void on_broker_ready(const std::string& stream, std::uint64_t epoch,
                       boost::system::error_code ec);

  void streams_changed() { metrics_.streams.set(static_cast<std::int64_t>(streams_.size())); }

  boost::asio::io_context& io_;
  pubsub::Adapter& adapter_;
  const FrameBuilder& frames_;
  std::unique_ptr<metrics::LoopMetrics> own_metrics_;  // when the loop gave none
  metrics::LoopMetrics& metrics_;
  bool counts_received_ = false;
  StreamMap streams_;
  std::uint64_t next_epoch_ = 1;
  const std::chrono::seconds keep_unused_;
  // Streams kept unused, by the time they may leave (oldest first: keep_unused_ is constant). A
  // stream used again, or left again later, is skipped when its old entry comes up.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> unused_;
  bool delivering_ = false;  // asserts that subscribers do not modify the index mid-delivery
  // Liveness token for broker callbacks that arrive after the shard is gone.
  std::shared_ptr<HubShard*> self_;
};

// Every shard of the node; the adapter's deliveries enter here.
class Hub {
 public:
  // `frames` makes the wire frames of broadcasts for every shard; it outlives the hub.
  Hub(pubsub::Adapter& adapter, const FrameBuilder& frames) : adapter_(adapter), frames_(frames) {}

  // Stream history (broker/history.hpp): every broadcast the adapter delivers passes through
  // history->on_receive before the shards get it, and its position is stamped on the frames of
  // ext-protocol subscribers. Set once at start-up, before traffic; null: history off.
  // `keep_unused_streams`: with history numbered on receipt by an adapter that only delivers
  // the streams a node subscribes to (PostgreSQL), a stream stays subscribed on the broker this
  // long after its last local subscriber left, so the node keeps numbering and storing what is
  // broadcast while that client is away (it comes back to no gap). Before add_shard.
  void set_history(broker::History* history,
                   std::chrono::seconds keep_unused_streams = std::chrono::seconds(0)) {
    history_ = history;
    keep_unused_streams_ = keep_unused_streams;
  }

  // Called once per loop at start-up, before any traffic. `metrics`: the loop's counters.
  HubShard& add_shard(boost::asio::io_context& io, metrics::LoopMetrics* metrics = nullptr);

  // From any thread: posts the payload to every shard's loop. A payload in the meta envelope
  // (broadcast/envelope.hpp) is unwrapped here, once for the node.
  void deliver(std::string_view stream, pubsub::Payload payload);
  // From any thread: a publication this node decoded itself (anycable-rails' Redis channel,
  // which every node receives): posted to every shard as it is, with its meta.
  void deliver(std::string_view stream, pubsub::Payload message,
               std::shared_ptr<const broadcast::Meta> meta);

  pubsub::Adapter& adapter() { return adapter_; }
  std::size_t shard_count() const { return shards_.size(); }
  HubShard& shard(std::size_t i) { return *shards_[i]; }

 private:
  // Posts to every shard: in one order for all of them.
  void post_to_shards(std::string_view stream, pubsub::Payload message,
                      std::shared_ptr<const broadcast::Meta> meta);

  pubsub::Adapter& adapter_;
  const FrameBuilder& frames_;
  broker::History* history_ = nullptr;
  std::chrono::seconds keep_unused_streams_{0};
  // Held while a broadcast is numbered and posted, so the shards receive one stream's messages
  // in offset order even when several threads deliver (the memory adapter delivers on the
  // publisher's thread). Broker adapters deliver from one thread: never contended there.
  std::mutex numbering_;
  std::vector<std::unique_ptr<HubShard>> shards_;
  std::atomic<std::uint32_t> bad_envelopes_{0};  // budgets their log lines (any thread)
};

}  // namespace cablecast::hub
