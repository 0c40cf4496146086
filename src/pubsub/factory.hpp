#pragma once
// Builds the adapter that PubSubOptions names. Unknown names and malformed URLs are errors here,
// so `cablecast serve` stops at start-up with a clear message.
#include <boost/system/result.hpp>
#include <cablecast/pubsub_options.hpp>
#include <memory>
#include <string>

#include "pubsub/adapter.hpp"

namespace cablecast::pubsub {

struct AdapterOrError {
  std::unique_ptr<Adapter> adapter;  // null on error
  std::string error;                 // why, for the log and the exit message
};

AdapterOrError make_adapter(const PubSubOptions& options);

}  // namespace cablecast::pubsub
