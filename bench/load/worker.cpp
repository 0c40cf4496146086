#include "worker.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>

#include "client.hpp"
#include "clock.hpp"

namespace cablecast::bench {

namespace {
// One read takes at most this much; shared by all clients of the loop, as in the server.
constexpr std::size_t kScratchSize = 64 * 1024;
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

// ---------------------------------------------------------------------------------------------
// ConnectionTally

void ConnectionTally::subscribed(std::int64_t now_ns) {
  subscribed_.fetch_add(1, std::memory_order_relaxed);
  std::int64_t seen = last_subscribed_ns_.load(std::memory_order_relaxed);
  while (seen < now_ns && !last_subscribed_ns_.compare_exchange_weak(seen, now_ns)) {
  }
}

void ConnectionTally::failed(std::string_view reason, bool was_subscribed) {
  (was_subscribed ? dropped_ : failed_).fetch_add(1, std::memory_order_relaxed);
  std::string key =
      was_subscribed ? "dropped after subscribe: " + std::string(reason) : std::string(reason);
  std::lock_guard lock(reasons_mutex_);
  auto it = std::find_if(reasons_.begin(), reasons_.end(),
                         [&](const auto& entry) { return entry.first == key; });
  if (it == reasons_.end()) {
    reasons_.emplace_back(std::move(key), 1);
  } else {
    ++it->second;
  }
}

std::string ConnectionTally::failure_summary() const {
  std::lock_guard lock(reasons_mutex_);
  std::string out;
  for (const auto& [reason, count] : reasons_) {
    if (!out.empty()) out += "; ";
    out += reason + " x" + std::to_string(count);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Worker

Worker::Worker(unsigned index, const Target& target, ClientObserver& observer,
               ConnectionTally& tally, unsigned max_connecting, std::uint64_t seed)
    : index_(index),
      target_(target),
      observer_(observer),
      tally_(tally),
      guard_(io_.get_executor()),
      scratch_(kScratchSize),
      max_connecting_(std::max(1u, max_connecting)),
      random_state_(seed | 1) {}

Worker::~Worker() { stop(); }

Client& Worker::add_client(std::uint32_t index, std::uint32_t stream) {
  clients_.push_back(std::make_unique<Client>(*this, index, stream));
  return *clients_.back();
}

void Worker::start() {
  ready_.start();
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::read_again(Client& client) {
  boost::asio::post(io_, [&client] { client.on_readable(); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  // Close on the loop thread: pending waits complete (aborted) there, never on a dead client.
  std::promise<void> closed;
  boost::asio::post(io_, [this, &closed] {
    for (auto& client : clients_) client->close();
    ready_.stop();
    pending_.clear();
    closed.set_value();
  });
  closed.get_future().wait();
  guard_.reset();
  io_.stop();
  thread_.join();
}

void Worker::connect(std::vector<Client*> clients) {
  pending_.insert(pending_.end(), clients.begin(), clients.end());
  pump();
}

void Worker::abandon_connecting() {
  pending_.clear();
  for (auto& client : clients_) client->abandon("not subscribed before the connect timeout");
}

void Worker::pump() {
  // A client that fails synchronously in start() re-enters here through client_failed();
  // the guard turns that recursion into further iterations of this loop.
  if (pumping_) return;
  pumping_ = true;
  while (connecting_ < max_connecting_ && !pending_.empty()) {
    Client* client = pending_.front();
    pending_.pop_front();
    ++connecting_;
    client->start();
  }
  pumping_ = false;
}

void Worker::client_subscribed(Client& client) {
  --connecting_;
  tally_.subscribed(now_ns());
  observer_.on_subscribed(client);
  pump();
}

void Worker::client_restored(Client& client, bool history_confirmed) {
  --connecting_;
  tally_.subscribed(now_ns());
  observer_.on_restored(client, history_confirmed);
  pump();
}

void Worker::client_failed(Client&, std::string_view reason, bool was_subscribed) {
  tally_.failed(reason, was_subscribed);
  if (was_subscribed) return;
  --connecting_;
  pump();
}

std::uint64_t Worker::next_random() {
  // xorshift64: masks and keys need to vary, not to be secret.
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

std::array<std::uint8_t, 4> Worker::next_mask() {
  const std::uint64_t r = next_random();
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(r >> 8),
          static_cast<std::uint8_t>(r >> 16), static_cast<std::uint8_t>(r >> 24)};
}

std::string Worker::next_key() {
  // 16 random bytes in base64 are 22 characters + "==", and the 22nd character carries only
  // two bits (its low four are zero): one of A, Q, g, w.
  std::string key;
  key.reserve(24);
  std::uint64_t r = next_random();
  for (int i = 0; i < 21; ++i) {
    if (i == 10) r = next_random();
    key.push_back(kBase64[r & 63]);
    r >>= 6;
  }
  key.push_back("AQgw"[next_random() & 3]);
  key.append("==");
  return key;
}

}  // namespace cablecast::bench
