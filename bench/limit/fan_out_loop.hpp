#pragma once
// The limit server's one event loop (fan_out_loop.cpp says what it does and leaves out).
#include "options.hpp"

namespace cablecast::limit {

// Serves on `listener` (non-blocking, listening) until `signals` (a signalfd for SIGTERM and
// SIGINT) is readable; logs the totals when it stops.
void serve(const Options& options, int listener, int signals);

}  // namespace cablecast::limit
