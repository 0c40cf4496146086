#pragma once
// What /health and /ready answer, as pure functions of what the node knows (no I/O, no clock of
// its own), so every rule is unit-tested: the canary's bookkeeping (CanaryTracker) and the
// verdicts (judge_health, judge_readiness) with their JSON bodies.
//
// /health is 200 only when delivery was proven end to end: the adapter's link is up, the last
// canary came back, and it came back through the link as it is now (after a reconnect, the next
// canary must come back before the node says healthy again). /ready is 200 once started with the
// broker connected, and 503 during start-up and drain.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pubsub/adapter.hpp"

namespace cablecast::server {

using HealthClock = std::chrono::steady_clock;

// What the canary knows. Copied out for every /health request.
struct CanaryReport {
  bool subscribed = false;  // the broker confirmed the canary's private stream
  std::uint64_t sent = 0;
  std::uint64_t returned = 0;
  std::uint64_t missed = 0;
  bool last_missed = false;  // the last canary due back did not come back
  std::optional<std::chrono::microseconds> last_round_trip;
  std::optional<HealthClock::time_point> last_returned_at;
  // The adapter's reconnect count when the last returned canary was sent: a higher count now
  // means the link was re-established since, and is not proven yet.
  std::uint64_t reconnects_at_last_return = 0;
  std::string publish_error;  // the last canary could not be published: why (else empty)
};

// The canary's bookkeeping: one canary in flight at a time, numbered. Single-threaded.
class CanaryTracker {
 public:
  struct Launch {
    std::uint64_t sequence;  // the number to publish
    bool previous_missed;    // the canary before it never came back
  };
  // A new canary leaves now over the adapter's link as it is (`adapter_reconnects`: the
  // adapter's reconnect count). The one before it, if still out, counts as missed when it left
  // over the same link; one that left before a reconnect may have been lost in it, and the new
  // link is tested by this one, so it is forgotten (a miss would reconnect a fresh link).
  Launch launch(HealthClock::time_point now, std::uint64_t adapter_reconnects);
  // The link is down (the adapter knows and reconnects): the canary still out is forgotten.
  void abandon() { in_flight_.reset(); }
  // The canary just launched could not be published (the adapter said why).
  void publish_failed(std::string why);
  // A canary came back; false (and nothing changes) when it is not the one in flight (late,
  // duplicated, or another node's).
  bool returned(std::uint64_t sequence, HealthClock::time_point now);
  void set_subscribed(bool subscribed) { report_.subscribed = subscribed; }
  bool in_flight() const { return in_flight_.has_value(); }
  const CanaryReport& report() const { return report_; }

 private:
  struct InFlight {
    std::uint64_t sequence;
    HealthClock::time_point sent_at;
    std::uint64_t reconnects;
  };
  std::optional<InFlight> in_flight_;
  std::uint64_t next_sequence_ = 1;
  CanaryReport report_;
};

// The RPC backend's reachability (--rpc-url), from the periodic TCP connect probe.
struct RpcProbeReport {
  std::string target;   // "host:port"
  bool probed = false;  // at least one probe finished
  bool reachable = false;
  std::string error;  // why not, when !reachable
};

struct HealthInputs {
  bool started = false;
  bool draining = false;
  std::string_view adapter_name;
  pubsub::AdapterHealth adapter;
  CanaryReport canary;
  std::chrono::milliseconds canary_interval{2000};
  std::optional<RpcProbeReport> rpc;  // none: no --rpc-url
  HealthClock::time_point now;
};

struct HealthVerdict {
  bool ok = false;
  std::string reason;  // empty when ok
  std::string body;    // the JSON body to answer
};

// GET /health.
HealthVerdict judge_health(const HealthInputs& in);
// GET /ready.
HealthVerdict judge_readiness(const HealthInputs& in);

}  // namespace cablecast::server
