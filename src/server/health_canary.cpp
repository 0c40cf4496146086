#include "server/health_canary.hpp"

#include <boost/system/errc.hpp>
#include <charconv>
#include <random>

#include "broker/publish.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"

namespace cablecast::server {

namespace {

// Internal (hub::kInternalStreamPrefix): left out of the client traffic metrics.
constexpr std::string_view kStreamPrefix = "__cablecast_health__:";
static_assert(kStreamPrefix.starts_with(hub::kInternalStreamPrefix));
constexpr std::string_view kMessagePrefix = "{\"canary\":";

std::string private_stream_name() {
  std::random_device random;
  std::string name(kStreamPrefix);
  for (int i = 0; i < 4; ++i) name += fmt::format("{:08x}", random());
  return name;
}

// The sequence number of one of our canaries, or 0 for anything else.
std::uint64_t sequence_of(std::string_view message) {
  if (!message.starts_with(kMessagePrefix) || !message.ends_with('}')) return 0;
  message.remove_prefix(kMessagePrefix.size());
  message.remove_suffix(1);
  std::uint64_t sequence = 0;
  auto [end, ec] = std::from_chars(message.data(), message.data() + message.size(), sequence);
  return ec == std::errc{} && end == message.data() + message.size() ? sequence : 0;
}

}  // namespace

HealthCanary::HealthCanary(hub::HubShard& shard, pubsub::Adapter& adapter,
                           std::chrono::milliseconds interval)
    : shard_(shard),
      adapter_(adapter),
      interval_(interval),
      stream_(private_stream_name()),
      timer_(shard.io()),
      self_(std::make_shared<HealthCanary*>(this)) {
  CABLE_ASSERT(interval_.count() > 0);
}

HealthCanary::~HealthCanary() { CABLE_ASSERT(!running_); }

void HealthCanary::start() {
  CABLE_ASSERT(!running_);
  running_ = true;
  std::weak_ptr<HealthCanary*> weak = self_;
  shard_.listen(stream_, this, [weak](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || !(*self)->running_) return;
    HealthCanary& canary = **self;
    if (ec) {
      CC_LOG_ERROR("health canary: the broker refused its stream: {}", ec.message());
      return;
    }
    {
      std::lock_guard lock(canary.mutex_);
      canary.tracker_.set_subscribed(true);
    }
    canary.tick();  // the first canary at once: /health need not wait a whole interval
  });
}

void HealthCanary::stop() {
  if (!running_) return;
  running_ = false;
  timer_.cancel();
  shard_.unlisten(stream_, this);
}

CanaryReport HealthCanary::report() const {
  std::lock_guard lock(mutex_);
  return tracker_.report();
}

void HealthCanary::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && running_) tick();
  });
}

void HealthCanary::tick() {
  const pubsub::AdapterHealth link = adapter_.health();
  CanaryTracker::Launch launch{};
  {
    std::lock_guard lock(mutex_);
    if (!link.connected) {
      // Down and known to be: the adapter is reconnecting, /health gives its reason, and a
      // canary could only fail (or, with one connection still up, get lost in the outage).
      tracker_.abandon();
      arm();
      return;
    }
    launch = tracker_.launch(HealthClock::now(), link.reconnects);
  }
  if (launch.previous_missed) {
    // The adapter believes its link is up, yet nothing came back: it is not.
    CC_LOG_WARN("health canary: not back within {} ms on {}; telling the {} adapter to reconnect",
                interval_.count(), stream_, adapter_.name());
    adapter_.reconnect();
  }
  broadcast::Meta meta;
  meta.transient = true;  // never in any stream history
  auto sent = broker::publish(nullptr, adapter_, stream_,
                              fmt::format("{}{}}}", kMessagePrefix, launch.sequence), meta);
  if (!sent) {
    std::lock_guard lock(mutex_);
    tracker_.publish_failed(sent.error().message());
  }
  arm();
}

void HealthCanary::on_stream_message(std::string_view message) {
  const std::uint64_t sequence = sequence_of(message);
  if (sequence == 0) return;
  std::lock_guard lock(mutex_);
  tracker_.returned(sequence, HealthClock::now());
}

}  // namespace cablecast::server
