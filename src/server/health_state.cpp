#include "server/health_state.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"

namespace cablecast::server {

namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

CanaryTracker::Launch CanaryTracker::launch(HealthClock::time_point now,
                                            std::uint64_t adapter_reconnects) {
  const bool missed = in_flight_ && in_flight_->reconnects == adapter_reconnects;
  if (missed) {
    ++report_.missed;
    report_.last_missed = true;
  }
  report_.publish_error.clear();
  const std::uint64_t sequence = next_sequence_++;
  in_flight_ = InFlight{sequence, now, adapter_reconnects};
  ++report_.sent;
  return {sequence, missed};
}

void CanaryTracker::publish_failed(std::string why) {
  // Nothing left: there is nothing to wait for (and nothing to count as missed later).
  in_flight_.reset();
  report_.publish_error = std::move(why);
}

bool CanaryTracker::returned(std::uint64_t sequence, HealthClock::time_point now) {
  if (!in_flight_ || in_flight_->sequence != sequence) return false;
  ++report_.returned;
  report_.last_missed = false;
  report_.last_round_trip =
      std::chrono::duration_cast<std::chrono::microseconds>(now - in_flight_->sent_at);
  report_.last_returned_at = now;
  report_.reconnects_at_last_return = in_flight_->reconnects;
  in_flight_.reset();
  return true;
}

namespace {

// Why the node does not deliver end to end, or "" when it does.
std::string unhealthy_reason(const HealthInputs& in) {
  if (in.draining) return "draining: the server is shutting down";
  if (!in.started) return "starting";
  if (!in.adapter.connected) return "pub/sub down: " + in.adapter.reason;
  const CanaryReport& c = in.canary;
  if (!c.subscribed) return "canary: waiting for the broker to confirm the canary stream";
  if (!c.publish_error.empty()) return "canary: could not be published: " + c.publish_error;
  if (c.last_missed) {
    return fmt::format("canary: the last canary did not come back within {} ms; reconnecting",
                       in.canary_interval.count());
  }
  if (c.returned == 0) return "canary: waiting for the first canary to come back";
  if (in.adapter.reconnects > c.reconnects_at_last_return) {
    return "canary: pub/sub reconnected; waiting for a canary to come back through the new link";
  }
  if (in.rpc && in.rpc->probed && !in.rpc->reachable) {
    return "rpc backend " + in.rpc->target + " unreachable: " + in.rpc->error;
  }
  return {};
}

json::object pubsub_json(const HealthInputs& in) {
  json::object pubsub{{"adapter", in.adapter_name},
                      {"connected", in.adapter.connected},
                      {"reconnects", in.adapter.reconnects}};
  if (!in.adapter.connected) pubsub["reason"] = in.adapter.reason;
  return pubsub;
}

std::string status_body(std::string_view status, const std::string& reason, json::object extra) {
  json::object body{{"status", status}};
  if (!reason.empty()) body["reason"] = reason;
  for (auto& [key, value] : extra) body[key] = std::move(value);
  return json::serialize(body);
}

}  // namespace

HealthVerdict judge_health(const HealthInputs& in) {
  HealthVerdict verdict;
  verdict.reason = unhealthy_reason(in);
  verdict.ok = verdict.reason.empty();
  const CanaryReport& c = in.canary;
  json::object canary{{"interval_ms", in.canary_interval.count()},
                      {"sent", c.sent},
                      {"returned", c.returned},
                      {"missed", c.missed}};
  if (c.last_round_trip) {
    canary["last_round_trip_ms"] = static_cast<double>(c.last_round_trip->count()) / 1000.0;
  }
  if (c.last_returned_at) {
    canary["last_returned_ms_ago"] =
        duration_cast<milliseconds>(in.now - *c.last_returned_at).count();
  }
  json::object extra{{"pubsub", pubsub_json(in)}, {"canary", std::move(canary)}};
  if (in.rpc) {
    json::object rpc{{"target", in.rpc->target}, {"reachable", in.rpc->reachable}};
    if (in.rpc->probed && !in.rpc->reachable) rpc["error"] = in.rpc->error;
    extra["rpc"] = std::move(rpc);
  }
  verdict.body = status_body(verdict.ok ? "ok" : "unhealthy", verdict.reason, std::move(extra));
  return verdict;
}

HealthVerdict judge_readiness(const HealthInputs& in) {
  HealthVerdict verdict;
  if (in.draining) {
    verdict.reason = "draining: the server is shutting down";
  } else if (!in.started) {
    verdict.reason = "starting";
  } else if (!in.adapter.connected) {
    verdict.reason = "pub/sub not connected: " + in.adapter.reason;
  }
  verdict.ok = verdict.reason.empty();
  verdict.body = status_body(verdict.ok ? "ready" : "not_ready", verdict.reason,
                             json::object{{"pubsub", pubsub_json(in)}});
  return verdict;
}

}  // namespace cablecast::server
