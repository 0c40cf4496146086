#include "pubsub/redis/subscription_table.hpp"

#include <utility>

namespace cablecast::pubsub::redis {

bool SubscriptionTable::add(const std::string& name, ReadyFn on_ready,
                            std::vector<ReadyFn>& ready_now) {
  Stream& stream = streams_[name];
  ++stream.references;
  if (stream.live) {
    ready_now.push_back(std::move(on_ready));
    return false;
  }
  stream.waiting.push_back(std::move(on_ready));
  // Not the first reference: a SUBSCRIBE is already under way (or will be sent on connect).
  if (stream.references > 1 || !connected_) return false;
  ++stream.in_flight;
  return true;
}

bool SubscriptionTable::remove(std::string_view name) {
  auto it = streams_.find(name);
  if (it == streams_.end() || it->second.references == 0) return false;
  Stream& stream = it->second;
  if (--stream.references > 0) return false;
  // Every caller of this life has gone: nobody is left to tell about a confirmation.
  stream.live = false;
  stream.waiting.clear();
  // Keep the entry while acknowledgements are outstanding, so they are matched to this life.
  if (stream.in_flight == 0 || !connected_) streams_.erase(it);
  return connected_;
}

std::vector<ReadyFn> SubscriptionTable::acknowledged(std::string_view name) {
  auto it = streams_.find(name);
  if (it == streams_.end()) return {};
  Stream& stream = it->second;
  if (stream.in_flight > 0) --stream.in_flight;
  if (stream.in_flight > 0) return {};  // a later SUBSCRIBE is still to be acknowledged
  if (stream.references == 0) {
    streams_.erase(it);
    return {};
  }
  stream.live = true;
  return std::exchange(stream.waiting, {});
}

void SubscriptionTable::disconnected() {
  connected_ = false;
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second.references == 0) {
      it = streams_.erase(it);
      continue;
    }
    it->second.in_flight = 0;
    it->second.live = false;
    ++it;
  }
}

std::vector<std::string> SubscriptionTable::connected() {
  connected_ = true;
  std::vector<std::string> names;
  names.reserve(streams_.size());
  for (auto& [name, stream] : streams_) {
    // disconnected() left only referenced streams; a stream can only be unreferenced here if
    // connected() is called twice, which the adapter never does.
    if (stream.references == 0) continue;
    ++stream.in_flight;
    names.push_back(name);
  }
  return names;
}

bool SubscriptionTable::is_live(std::string_view name) const {
  auto it = streams_.find(name);
  return it != streams_.end() && it->second.live;
}

std::size_t SubscriptionTable::references(std::string_view name) const {
  auto it = streams_.find(name);
  return it == streams_.end() ? 0 : it->second.references;
}

std::size_t SubscriptionTable::stream_count() const {
  std::size_t count = 0;
  for (const auto& [name, stream] : streams_) count += stream.references > 0 ? 1 : 0;
  return count;
}

std::size_t SubscriptionTable::waiting_count(std::string_view name) const {
  auto it = streams_.find(name);
  return it == streams_.end() ? 0 : it->second.waiting.size();
}

}  // namespace cablecast::pubsub::redis
