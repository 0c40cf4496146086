#include "pubsub/postgres/listen_registry.hpp"

#include <algorithm>

namespace cablecast::pubsub::postgres {

std::optional<ListenRegistry::Listen> ListenRegistry::add(const std::string& channel,
                                                          const std::string& stream,
                                                          ReadyFn on_ready,
                                                          boost::system::error_code refuse) {
  auto [it, inserted] = channels_.try_emplace(channel);
  Channel& c = it->second;
  auto counted = std::find_if(c.streams.begin(), c.streams.end(),
                              [&](const StreamCount& s) { return s.stream == stream; });
  if (counted == c.streams.end()) {
    c.streams.push_back({stream, 1});
  } else {
    ++counted->count;
  }
  if (inserted && refuse) {
    c.state = State::failed;
    c.error = refuse;
  }
  if (c.state == State::live) {
    on_ready({});
    return std::nullopt;
  }
  if (c.state == State::failed) {
    on_ready(c.error);
    return std::nullopt;
  }
  c.waiting.push_back(std::move(on_ready));
  if (!inserted) return std::nullopt;  // its LISTEN is already under way
  c.generation = ++next_generation_;
  return Listen{channel, c.generation};
}

bool ListenRegistry::remove(const std::string& channel, const std::string& stream) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return false;
  Channel& c = it->second;
  auto counted = std::find_if(c.streams.begin(), c.streams.end(),
                              [&](const StreamCount& s) { return s.stream == stream; });
  if (counted == c.streams.end()) return false;
  if (--counted->count == 0) c.streams.erase(counted);
  if (!c.streams.empty()) return false;
  bool listened = c.state != State::failed;
  channels_.erase(it);
  return listened;
}

void ListenRegistry::listened(const std::string& channel, std::uint64_t generation,
                              boost::system::error_code ec) {
  auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.generation != generation) return;
  Channel& c = it->second;
  if (c.state != State::pending) return;
  c.state = ec ? State::failed : State::live;
  c.error = ec;
  auto waiting = std::move(c.waiting);
  c.waiting.clear();
  for (auto& on_ready : waiting) on_ready(ec);
}

void ListenRegistry::connection_lost() {
  for (auto& [name, c] : channels_) {
    if (c.state == State::live) c.state = State::pending;
  }
}

std::vector<ListenRegistry::Listen> ListenRegistry::relisten_all() {
  std::vector<Listen> listens;
  for (auto& [name, c] : channels_) {
    if (c.state == State::failed) continue;
    c.state = State::pending;
    c.generation = ++next_generation_;
    listens.push_back({name, c.generation});
  }
  return listens;
}

const std::vector<ListenRegistry::StreamCount>* ListenRegistry::streams(
    const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : &it->second.streams;
}

bool ListenRegistry::is_live(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it != channels_.end() && it->second.state == State::live;
}

}  // namespace cablecast::pubsub::postgres
