#include "hub/hub.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <unordered_map>

#include "broadcast/envelope.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"

namespace cablecast::hub {

HubShard::HubShard(boost::asio::io_context& io, pubsub::Adapter& adapter,
                   const FrameBuilder& frames, std::chrono::seconds keep_unused,
                   metrics::LoopMetrics* metrics)
    : io_(io),
      adapter_(adapter),
      frames_(frames),
      own_metrics_(metrics ? nullptr : std::make_unique<metrics::LoopMetrics>()),
      metrics_(metrics ? *metrics : *own_metrics_),
      keep_unused_(keep_unused),
      self_(std::make_shared<HubShard*>(this)) {}

HubShard::~HubShard() {
  *self_ = nullptr;
  for (auto& [name, stream] : streams_) adapter_.unsubscribe(name);
  streams_.clear();
  streams_changed();
}

void HubShard::subscribe(const std::string& stream_name, Subscriber* subscriber, ReadyFn on_ready) {
  join(stream_name, std::move(on_ready), [subscriber](Stream& stream) {
#ifndef NDEBUG  // O(subscribers): too slow to run on every subscribe to a big stream in release
    CABLE_ASSERT(std::find(stream.subscribers.begin(), stream.subscribers.end(), subscriber) ==
                 stream.subscribers.end());
#endif
    stream.subscribers.push_back(subscriber);
  });
}

void HubShard::listen(const std::string& stream_name, Listener* listener, ReadyFn on_ready) {
  join(stream_name, std::move(on_ready),
       [listener](Stream& stream) { stream.listeners.push_back(listener); });
}

template <class Add>
void HubShard::join(const std::string& stream_name, ReadyFn on_ready, Add add) {
  CABLE_ASSERT(!delivering_);
  auto [it, inserted] = streams_.try_emplace(stream_name);
  Stream& stream = it->second;
  add(stream);
  if (inserted) streams_changed();
  if (stream.ready) return on_ready({});
  stream.waiting.push_back(std::move(on_ready));
  if (!inserted) return;  // the broker request is already under way

  // First local subscriber: this loop now needs the stream from the broker.
  stream.epoch = next_epoch_++;
  std::weak_ptr<HubShard*> alive = self_;
  auto& io = io_;
  adapter_.subscribe(stream_name, [alive, &io, name = stream_name,
                                   epoch = stream.epoch](boost::system::error_code ec) {
    // The adapter may answer from its own thread: come back to this loop first.
    boost::asio::post(io, [alive, name, epoch, ec] {
      if (auto shard = alive.lock(); shard && *shard) (*shard)->on_broker_ready(name, epoch, ec);
    });
  });
}

void HubShard::on_broker_ready(const std::string& name, std::uint64_t epoch,
                               boost::system::error_code ec) {
  auto it = streams_.find(name);
  if (it == streams_.end() || it->second.epoch != epoch) return;  // stream left meanwhile
  Stream& stream = it->second;
  if (!ec) stream.ready = true;
  auto waiting = std::move(stream.waiting);
  stream.waiting.clear();
  if (ec) CC_LOG_ERROR("pub/sub could not subscribe to {}: {}", log::clip(name), ec.message());
  for (auto& callback : waiting) callback(ec);
}

void HubShard::unsubscribe(std::string_view stream_name, Subscriber* subscriber) {
  CABLE_ASSERT(!delivering_);
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) return;
  auto& subscribers = it->second.subscribers;
  auto found = std::find(subscribers.begin(), subscribers.end(), subscriber);
  if (found == subscribers.end()) return;
  // Order among subscribers does not matter: swap-and-pop keeps removal cheap.
  *found = subscribers.back();
  subscribers.pop_back();
  leave_if_unused(it);
}

void HubShard::unlisten(std::string_view stream_name, Listener* listener) {
  CABLE_ASSERT(!delivering_);
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) return;
  auto& listeners = it->second.listeners;
  auto found = std::find(listeners.begin(), listeners.end(), listener);
  if (found == listeners.end()) return;
  *found = listeners.back();
  listeners.pop_back();
  leave_if_unused(it);
}

void HubShard::leave_if_unused(StreamMap::iterator it) {
  Stream& stream = it->second;
  if (!stream.subscribers.empty() || !stream.listeners.empty()) return;
  // Kept only once live on the broker: a stream whose subscribe failed leaves, so that the next
  // subscriber asks the broker again instead of waiting for an answer that already came.
  if (keep_unused_.count() > 0 && stream.ready) {
    stream.unused_until = std::chrono::steady_clock::now() + keep_unused_;
    unused_.emplace_back(stream.unused_until, it->first);
    return;
  }
  std::string name = it->first;
  streams_.erase(it);
  streams_changed();
  adapter_.unsubscribe(name);
}

void HubShard::forget_unused_streams(std::chrono::steady_clock::time_point now) {
  CABLE_ASSERT(!delivering_);
  while (!unused_.empty() && unused_.front().first <= now) {
    auto [until, name] = std::move(unused_.front());
    unused_.pop_front();
    auto it = streams_.find(name);
    if (it == streams_.end() || it->second.unused_until != until) continue;  // a later entry's
    if (!it->second.subscribers.empty() || !it->second.listeners.empty()) continue;  // used again
    streams_.erase(it);
    streams_changed();
    adapter_.unsubscribe(name);
  }
}

namespace {

// One frame per distinct identifier. Subscribers of a stream usually share very few identifiers
// (often one), so a short vector beats a map and the last hit is checked first. Past kLinearScan
// identifiers an index takes over: a client can subscribe one stream under hundreds of
// identifiers, and scanning them per subscriber would be quadratic.
template <class Encode>
class FrameCache {
 public:
  explicit FrameCache(Encode encode) : encode_(std::move(encode)) {}

  const SharedFrame& frame_for(std::string_view identifier) {
    if (frames_.empty() || frames_[last_].first != identifier) last_ = find_or_make(identifier);
    return frames_[last_].second;
  }

 private:
  static constexpr std::size_t kLinearScan = 8;

  std::size_t find_or_make(std::string_view identifier) {
    if (index_.empty()) {
      for (std::size_t i = 0; i < frames_.size(); ++i) {
        if (frames_[i].first == identifier) return i;
      }
    } else if (auto hit = index_.find(identifier); hit != index_.end()) {
      return hit->second;
    }
    frames_.emplace_back(identifier, encode_(identifier));
    if (!index_.empty()) {
      index_.emplace(identifier, frames_.size() - 1);
    } else if (frames_.size() > kLinearScan) {
      for (std::size_t i = 0; i < frames_.size(); ++i) index_.emplace(frames_[i].first, i);
    }
    return frames_.size() - 1;
  }

  Encode encode_;
  std::vector<std::pair<std::string_view, SharedFrame>> frames_;
  std::unordered_map<std::string_view, std::size_t> index_;  // empty until frames outgrow the scan
  std::size_t last_ = 0;
};

}  // namespace

void HubShard::deliver(std::string_view stream_name, const pubsub::Payload& payload,
                       const broadcast::Meta* meta) {
  const bool counted = !is_internal_stream(stream_name);
  if (counts_received_ && counted) metrics_.broadcasts.add(metrics::BroadcastSource::pubsub);
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) return;
  // Fan-out time: from the broadcast reaching this shard to its last frame queued. Two clock
  // reads and three counter updates per broadcast and loop, whatever the subscriber count.
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t queued = 0;
  delivering_ = true;
  for (Listener* listener : it->second.listeners) listener->on_stream_message(*payload);
  const std::string_view type = meta ? std::string_view(meta->broadcast_type) : std::string_view();
  const std::string_view excluded =
      meta ? std::string_view(meta->exclude_socket) : std::string_view();
  // Only untyped broadcasts take part in history (presence events and whispers are transient).
  const broadcast::Meta* position = meta && meta->offset != 0 && type.empty() ? meta : nullptr;
  FrameCache plain(
      [&](std::string_view identifier) { return frames_.message(identifier, *payload, type); });
  FrameCache positioned([&](std::string_view identifier) {
    return frames_.positioned(identifier, *payload, stream_name, position->epoch, position->offset);
  });
  for (Subscriber* subscriber : it->second.subscribers) {
    // A plain broadcast pays one test of an empty view here, never a virtual call.
    if (!excluded.empty() && subscriber->socket_id() == excluded) continue;
    ++queued;
    if (position && subscriber->wants_positions()) {
      subscriber->deliver_positioned(positioned.frame_for(subscriber->identifier()), stream_name,
                                     *position);
    } else {
      subscriber->deliver(plain.frame_for(subscriber->identifier()));
    }
  }
  delivering_ = false;
  if (!counted) return;
  metrics_.messages_delivered.add(queued);
  metrics_.fanout.observe(std::chrono::steady_clock::now() - started);
}

std::size_t HubShard::subscriber_count(std::string_view stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.subscribers.size();
}

HubShard& Hub::add_shard(boost::asio::io_context& io, metrics::LoopMetrics* metrics) {
  shards_.push_back(
      std::make_unique<HubShard>(io, adapter_, frames_, keep_unused_streams_, metrics));
  if (shards_.size() == 1) shards_.back()->count_received_broadcasts();
  return *shards_.back();
}

void Hub::deliver(std::string_view stream, pubsub::Payload payload) {
  if (!broadcast::is_wrapped(*payload)) {
    if (!history_) return post_to_shards(stream, std::move(payload), nullptr);
    std::lock_guard lock(numbering_);
    std::shared_ptr<const broadcast::Meta> meta;
    if (auto position = history_->on_receive(stream, *payload, nullptr)) {
      auto stamped = std::make_shared<broadcast::Meta>();
      stamped->offset = position->offset;
      stamped->epoch = std::move(position->epoch);
      meta = std::move(stamped);
    }
    return post_to_shards(stream, std::move(payload), std::move(meta));
  }
  auto unwrapped = broadcast::unwrap(*payload);
  if (!unwrapped) {
    // Only nodes write envelopes; a bad one is a bug or a stranger on the broker. Either way a
    // flood of them must not flood the log: the first 20, then one in 1000.
    const auto seen = bad_envelopes_.fetch_add(1, std::memory_order_relaxed);
    if (seen < 20 || seen % 1000 == 0) {
      CC_LOG_ERROR("dropping a broadcast to {} in a malformed meta envelope ({}): {}",
                   log::clip(stream), unwrapped.error().message(), log::clip(*payload));
    }
    return;
  }
  auto message = std::make_shared<const std::string>(unwrapped->message);
  auto meta = std::make_shared<broadcast::Meta>(std::move(unwrapped->meta));
  if (!history_) return post_to_shards(stream, std::move(message), std::move(meta));
  std::lock_guard lock(numbering_);
  if (auto position = history_->on_receive(stream, *message, meta.get())) {
    meta->offset = position->offset;
    meta->epoch = std::move(position->epoch);
  }
  post_to_shards(stream, std::move(message), std::move(meta));
}

void Hub::deliver(std::string_view stream, pubsub::Payload message,
                  std::shared_ptr<const broadcast::Meta> meta) {
  post_to_shards(stream, std::move(message), std::move(meta));
}

void Hub::post_to_shards(std::string_view stream, pubsub::Payload message,
                         std::shared_ptr<const broadcast::Meta> meta) {
  for (auto& shard : shards_) {
    boost::asio::post(shard->io(), [shard = shard.get(), name = std::string(stream), message,
                                    meta] { shard->deliver(name, message, meta.get()); });
  }
}

}  // namespace cablecast::hub
