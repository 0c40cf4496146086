#include "server/health.hpp"

#include "core/log.hpp"
#include "ws/handshake.hpp"

namespace cablecast::server {

namespace {

// Probes read the answer every few seconds: nobody between them may cache it.
constexpr std::string_view kNoStore = "Cache-Control: no-store\r\n";
// While waiting for the broker at start-up, how often its link is looked at.
constexpr std::chrono::milliseconds kBrokerWatch{250};

std::string respond(const HealthVerdict& verdict) {
  return ws::http_response(verdict.ok ? 200 : 503, "application/json", verdict.body, kNoStore);
}

}  // namespace

HealthMonitor::HealthMonitor(HealthOptions options, pubsub::Adapter& adapter, hub::HubShard& shard)
    : options_(std::move(options)),
      adapter_(adapter),
      canary_(shard, adapter, options_.interval),
      broker_watch_(shard.io()) {
  if (!options_.rpc_url.empty()) {
    auto target = probe_target_for(options_.rpc_url);
    if (target) {
      rpc_probe_ = std::make_unique<RpcProbe>(shard.io(), std::move(*target), options_.interval);
    } else {
      CC_LOG_WARN("health: --rpc-url has no host to probe ({}); /health does not check it",
                  target.error().message());
    }
  }
}

HealthMonitor::~HealthMonitor() = default;

void HealthMonitor::start(std::function<void(std::string)> give_up) {
  give_up_ = std::move(give_up);
  started_ = true;
  canary_.start();
  if (rpc_probe_) rpc_probe_->start();
  wait_deadline_ = std::chrono::steady_clock::now() + options_.pubsub_wait;
  watch_broker();
}

void HealthMonitor::stop() {
  canary_.stop();
  if (rpc_probe_) rpc_probe_->stop();
  broker_watch_.cancel();
  give_up_ = nullptr;
}

void HealthMonitor::watch_broker() {
  // Only until the broker is first connected: afterwards an outage is the adapter's to repair
  // (it reconnects forever) and /health's to report.
  const pubsub::AdapterHealth link = adapter_.health();
  if (link.connected) return;
  if (options_.pubsub_wait.count() > 0 && std::chrono::steady_clock::now() >= wait_deadline_) {
    if (give_up_) {
      std::exchange(give_up_, nullptr)(
          fmt::format("pub/sub {} not connected after --pubsub-wait {} s: {}", adapter_.name(),
                      options_.pubsub_wait.count(), link.reason));
    }
    return;
  }
  broker_watch_.expires_after(kBrokerWatch);
  broker_watch_.async_wait([this](boost::system::error_code ec) {
    if (!ec) watch_broker();
  });
}

HealthInputs HealthMonitor::inputs() const {
  HealthInputs in;
  in.started = started_;
  in.draining = draining_;
  in.adapter_name = adapter_.name();
  in.adapter = adapter_.health();
  if (history_ && !history_->connected() && in.adapter.connected) {
    in.adapter.connected = false;  // broadcasts would fail: as down as the adapter itself
    in.adapter.reason = fmt::format("stream history ({}) not connected", history_->description());
  }
  in.canary = canary_.report();
  in.canary_interval = options_.interval;
  if (rpc_probe_) in.rpc = rpc_probe_->report();
  in.now = HealthClock::now();
  return in;
}

std::string HealthMonitor::health_response() const { return respond(judge_health(inputs())); }

std::string HealthMonitor::ready_response() const { return respond(judge_readiness(inputs())); }

}  // namespace cablecast::server
