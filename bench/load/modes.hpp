#pragma once
// The five things `cablecast bench` measures. Each returns the process exit code: 0 when the run
// completed (even if the server missed a target: benchmarks report, they do not judge), 1 when
// it could not run (bad URL, CSV not writable), 2 when deliveries were lost or duplicated.
#include "options.hpp"

namespace cablecast::bench {

// N clients on one stream; one broadcast at a time; RTT until every client received it.
int run_broadcast(const BroadcastOptions& options);
// Clients echo messages through the server with several in flight; messages per second.
int run_echo(const EchoOptions& options);
// Many streams, each with its own sender, all at once; deliveries per second and per server
// CPU-second.
int run_fanout(const FanoutOptions& options);
// Connect and subscribe N clients, report time and memory, optionally hold them open.
int run_connect(const ConnectOptions& options);
// Extended protocol: cut every client off while HTTP broadcasts go on, restore the sessions;
// time until all recovered, broadcasts lost and duplicated per client.
int run_recover(const RecoverOptions& options);

}  // namespace cablecast::bench
