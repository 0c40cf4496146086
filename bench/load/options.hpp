#pragma once
// Command-line settings of every mode, as plain data: command.cpp fills them, the modes read them.
#include <cstdint>
#include <string>
#include <vector>

namespace cablecast::bench {

// Settings every mode shares: where the server is, how to reach it, where results go.
struct CommonOptions {
  std::string url = "ws://127.0.0.1:8080/cable";
  unsigned threads = 1;  // event loops (one io_context each)
  // Bind client sockets to 127.0.0.1 .. 127.0.0.N round-robin: each source address has its own
  // ~28k ephemeral ports, so one process can exceed one address's port range. 0 = no bind.
  unsigned source_ips = 4;
  unsigned connect_concurrency = 256;  // handshakes in flight at once (whole process)
  double connect_timeout_s = 60;       // give up waiting for the last subscription after this
  double settle_s = 1.0;               // pause after connecting before reading the server's RSS
  int server_pid = 0;                  // 0 = do not read the server's RSS / CPU
  std::string label = "server";        // first CSV column, e.g. "cablecast" or "rails"
  std::string csv_path;                // append one row per result when set
  std::string stream_id = "bench";     // BenchmarkChannel "id" param (stream "all<id>")
  // Offer AnyCable's extended sub-protocol (actioncable-v1-ext-json) instead of the plain one:
  // the server then puts stream positions on frames and a sid in "welcome".
  bool ext_protocol = false;
};

struct BroadcastOptions {
  CommonOptions common;
  // Client counts to measure at, ascending; clients are added between steps (as in the
  // websocket-shootout benchmark). Built from --clients and --step / --steps.
  std::vector<std::uint32_t> steps;
  unsigned samples = 50;         // broadcasts per step
  unsigned min_samples = 5;      // taken even when the step's time budget is used up
  double step_budget_s = 0;      // stop sampling a step after this long (0 = no limit)
  unsigned senders = 1;          // broadcasts in flight at once, each from another client
  unsigned payload_bytes = 64;   // size of the "payload" string in each broadcast
  double sample_timeout_s = 10;  // a broadcast not seen by every client by then is a timeout
  double pause_ms = 5;           // between samples
  // Appends one line per sample (label, clients, index, start offset, RTT) for histograms and
  // for lining samples up with server events (pings, sweeps) in time. Empty = not written.
  std::string samples_csv;
};

struct EchoOptions {
  CommonOptions common;
  std::uint32_t clients = 100;
  unsigned in_flight = 8;  // echo requests outstanding per client
  unsigned payload_bytes = 64;
  double duration_s = 10;
  double warmup_s = 1;
};

struct FanoutOptions {
  CommonOptions common;
  std::uint32_t streams = 100;
  std::uint32_t clients_per_stream = 100;
  unsigned in_flight = 4;  // broadcasts per stream not yet delivered to every subscriber
  unsigned payload_bytes = 64;
  double duration_s = 10;
  double warmup_s = 1;
};

struct ConnectOptions {
  CommonOptions common;
  std::uint32_t clients = 1000;
  double hold_s = 0;  // keep the connections open this long (extra load for another process)
  // Connect the first half, read RSS, then the rest: the second half's growth per connection is
  // the marginal cost, without one-time costs (code and data pages the first clients touch,
  // tables sized once). Off by default: the connect storm then is one storm.
  bool rss_midpoint = false;
};

// Recovery of resumable sessions (AnyCable's extended protocol): ext clients subscribed to one
// stream are cut off together while broadcasts go on through the HTTP broadcast API, then come
// back with their sid and ask for what they missed.
struct RecoverOptions {
  CommonOptions common;
  std::uint32_t clients = 1000;
  std::string broadcast_path = "/_broadcast";  // on the --url's host and port
  std::string broadcast_key;                   // "Authorization: Bearer <key>"
  double rate = 20;                            // HTTP broadcasts per second, throughout
  unsigned payload_bytes = 64;
  double before_s = 1;          // broadcasts while every client is connected, before the cut
  double outage_s = 1;          // from the cut until the clients reconnect
  double after_s = 1;           // broadcasts after every client recovered
  double drain_timeout_s = 10;  // wait at most this for the last broadcast to reach everyone
  double hold_s = 0;            // then keep the connections open (SIGINT/SIGTERM end it early)
};

}  // namespace cablecast::bench
