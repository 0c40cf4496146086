#pragma once
// POST <path> on the main port (default /_broadcast): the application's broadcasts over HTTP, as
// AnyCable's broadcast API takes them (docs/broadcasting.md). Off (404) without a key: never
// open. One per event loop (its router's), so its log budget needs no lock.
//
//   405  not POST                       401  no or wrong "Authorization: Bearer <key>"
//   413  body over max_body_bytes        422  not a publication (AnyCable: 201, logged)
//   503  the pub/sub adapter refused it  201  published to every node (empty body)
#include <cablecast/anycable_options.hpp>
#include <string>
#include <string_view>

#include "broker/history.hpp"
#include "core/line_budget.hpp"
#include "core/log.hpp"
#include "core/loop_metrics.hpp"
#include "pubsub/adapter.hpp"
#include "ws/router.hpp"

namespace cablecast::server {

class BroadcastEndpoint {
 public:
  // `history`: where publications enter stream history (null: off). `metrics`: the loop's
  // counters (broadcasts from source "api").
  BroadcastEndpoint(const BroadcastApiOptions& options, pubsub::Adapter& adapter,
                    broker::History* history, metrics::LoopMetrics& metrics)
      : options_(options), adapter_(adapter), history_(history), metrics_(metrics) {}

  // Its path is its own even while it is off, so the demo pages never answer there.
  bool serves(std::string_view path) const { return path == options_.path; }
  // Answers at once (404 when off, 405, 401) or reads the body (ws::BodyHandler) first.
  ws::Route route(const ws::Request& request);

 private:
  class Body;
  bool authorized(const ws::Request& request) const;
  // One line per refused request, within the loop's budget: a misconfigured or hostile client
  // retrying in a loop must not flood the log.
  template <class... Args>
  void log_refusal(fmt::format_string<Args...> format, Args&&... args);

  const BroadcastApiOptions& options_;
  pubsub::Adapter& adapter_;
  broker::History* history_;
  metrics::LoopMetrics& metrics_;
  log::LineBudget refusals_;
};

}  // namespace cablecast::server
