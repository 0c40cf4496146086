// `cablecast bench`: the load generator for Cablecast and any Action Cable server that has the
// BenchmarkChannel (see bench/README.md for the methodology and the targets it measures).
#include "command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/file_limit.hpp"
#include "modes.hpp"
#include "process_stats.hpp"

namespace cablecast::bench {
namespace {

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--url", o.url, "Action Cable endpoint (ws:// only)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Event loops of the load generator")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--source-ips", o.source_ips,
                  "Bind clients to 127.0.0.1..127.0.0.N round-robin (loopback servers only; "
                  "0 = let the kernel choose)")
      ->capture_default_str();
  cmd->add_option("--connect-concurrency", o.connect_concurrency,
                  "Connections being opened at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  cmd->add_option("--connect-timeout", o.connect_timeout_s,
                  "Seconds to wait for every client to be subscribed")
      ->capture_default_str();
  cmd->add_option("--settle", o.settle_s, "Seconds to wait after connecting before reading RSS")
      ->capture_default_str();
  cmd->add_option("--server-pid", o.server_pid,
                  "Server process to read VmRSS and CPU time from (/proc/PID)")
      ->capture_default_str();
  cmd->add_option("--label", o.label, "Server name in the output and the CSV")
      ->capture_default_str();
  cmd->add_option("--csv", o.csv_path, "Append one row per result to this CSV file");
  cmd->add_option("--stream-id", o.stream_id, "BenchmarkChannel id (stream \"all<id>\")")
      ->capture_default_str();
  cmd->add_flag("--ext-protocol", o.ext_protocol,
                "Speak AnyCable's extended protocol (offer actioncable-v1-ext-json; the server "
                "must select it)");
}

// --clients N with --step K -> K, 2K, ..., N; --steps a,b,c -> those (N appended if missing).
std::vector<std::uint32_t> make_steps(std::uint32_t clients, std::uint32_t step,
                                      std::vector<std::uint32_t> listed) {
  std::vector<std::uint32_t> steps = std::move(listed);
  if (steps.empty() && step > 0) {
    for (std::uint32_t n = step; n < clients; n += step) steps.push_back(n);
  }
  steps.erase(std::remove_if(steps.begin(), steps.end(),
                             [&](std::uint32_t n) { return n == 0 || n > clients; }),
              steps.end());
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  if (steps.empty() || steps.back() != clients) steps.push_back(clients);
  return steps;
}

}  // namespace

struct BenchCommand::Parsed {
  CLI::App* bench = nullptr;
  BroadcastOptions broadcast;
  std::uint32_t broadcast_clients = 1000, broadcast_step = 0;
  std::vector<std::uint32_t> broadcast_steps;
  CLI::App* broadcast_cmd = nullptr;
  CLI::Option* broadcast_clients_opt = nullptr;
  EchoOptions echo;
  CLI::App* echo_cmd = nullptr;
  FanoutOptions fanout;
  CLI::App* fanout_cmd = nullptr;
  ConnectOptions connect;
  CLI::App* connect_cmd = nullptr;
  RecoverOptions recover;
  CLI::App* recover_cmd = nullptr;
};

BenchCommand::BenchCommand(CLI::App& app) : parsed_(std::make_unique<Parsed>()) {
  Parsed& p = *parsed_;
  p.bench = app.add_subcommand(
      "bench",
      "Load generator: broadcast RTT, echo, fan-out, connect and session recovery against "
      "any Action Cable server with the BenchmarkChannel");
  p.bench->require_subcommand(1);

  auto* b = p.broadcast_cmd =
      p.bench->add_subcommand("broadcast", "Broadcast RTT until every client received it");
  add_common(b, p.broadcast.common);
  p.broadcast_clients_opt = b->add_option("--clients", p.broadcast_clients,
                                          "Clients at the last step (default: the "
                                          "largest of --steps, else 1000)");
  b->add_option("--step", p.broadcast_step, "Add this many clients per step (0 = one step)");
  b->add_option("--steps", p.broadcast_steps, "Explicit client counts to measure at")
      ->delimiter(',');
  BroadcastOptions& broadcast = p.broadcast;
  b->add_option("--samples", broadcast.samples, "Broadcasts per step")->capture_default_str();
  b->add_option("--min-samples", broadcast.min_samples,
                "Broadcasts per step even past the step budget")
      ->capture_default_str();
  b->add_option("--step-budget", broadcast.step_budget_s,
                "Stop sampling a step after this many seconds (0 = never)")
      ->capture_default_str();
  b->add_option("--senders", broadcast.senders, "Concurrent broadcasts per sample")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  b->add_option("--payload-bytes", broadcast.payload_bytes, "Payload string size")
      ->capture_default_str();
  b->add_option("--sample-timeout", broadcast.sample_timeout_s,
                "Seconds before a broadcast not seen by every client counts as a timeout")
      ->capture_default_str();
  b->add_option("--pause-ms", broadcast.pause_ms, "Pause between samples")->capture_default_str();
  b->add_option("--samples-csv", broadcast.samples_csv,
                "Append every sample (label,clients,sample,start_ms,rtt_ms) to this CSV file");

  EchoOptions& echo = p.echo;
  auto* e = p.echo_cmd =
      p.bench->add_subcommand("echo", "Echo messages/s with several in flight per client");
  add_common(e, echo.common);
  e->add_option("--clients", echo.clients)->capture_default_str();
  e->add_option("--in-flight", echo.in_flight, "Requests outstanding per client")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  e->add_option("--payload-bytes", echo.payload_bytes)->capture_default_str();
  e->add_option("--duration", echo.duration_s, "Measured seconds")->capture_default_str();
  e->add_option("--warmup", echo.warmup_s, "Seconds before measuring")->capture_default_str();

  FanoutOptions& fanout = p.fanout;
  auto* f = p.fanout_cmd =
      p.bench->add_subcommand("fanout", "Deliveries/s with many streams and senders at once");
  add_common(f, fanout.common);
  f->add_option("--streams", fanout.streams)->capture_default_str()->check(CLI::Range(1u, 100000u));
  f->add_option("--clients-per-stream", fanout.clients_per_stream)
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  f->add_option("--in-flight", fanout.in_flight, "Broadcasts outstanding per stream")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  f->add_option("--payload-bytes", fanout.payload_bytes)->capture_default_str();
  f->add_option("--duration", fanout.duration_s, "Measured seconds")->capture_default_str();
  f->add_option("--warmup", fanout.warmup_s, "Seconds before measuring")->capture_default_str();

  ConnectOptions& connect = p.connect;
  auto* c = p.connect_cmd =
      p.bench->add_subcommand("connect", "Connect+subscribe N clients; RSS; optionally hold");
  add_common(c, connect.common);
  c->add_option("--clients", connect.clients)->capture_default_str();
  c->add_flag("--rss-midpoint", connect.rss_midpoint,
              "Connect half, read the server's RSS, connect the rest: also report the second "
              "half's RSS growth per connection (rss_marginal_bytes; connect_s is then the second "
              "half's)");
  c->add_option("--hold", connect.hold_s,
                "Seconds to keep the connections open (SIGINT/SIGTERM end it early)")
      ->capture_default_str();

  RecoverOptions& recover = p.recover;
  auto* r = p.recover_cmd = p.bench->add_subcommand(
      "recover",
      "Extended protocol: cut every client off while HTTP broadcasts go on, restore the "
      "sessions; recovery time, messages lost and duplicated per client");
  add_common(r, recover.common);
  r->add_option("--clients", recover.clients)->capture_default_str();
  r->add_option("--broadcast-path", recover.broadcast_path,
                "HTTP broadcast API path on the --url's host and port")
      ->capture_default_str();
  r->add_option("--broadcast-key", recover.broadcast_key,
                "The server's --broadcast-key (sent as Authorization: Bearer)")
      ->required();
  r->add_option("--rate", recover.rate, "HTTP broadcasts per second, throughout")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  r->add_option("--payload-bytes", recover.payload_bytes)->capture_default_str();
  r->add_option("--before", recover.before_s, "Seconds of broadcasts before the cut")
      ->capture_default_str();
  r->add_option("--outage", recover.outage_s, "Seconds between the cut and the reconnection")
      ->capture_default_str();
  r->add_option("--after", recover.after_s, "Seconds of broadcasts after every client recovered")
      ->capture_default_str();
  r->add_option("--drain-timeout", recover.drain_timeout_s,
                "Seconds to wait for the last broadcast to reach every client")
      ->capture_default_str();
  r->add_option("--hold", recover.hold_s,
                "Then keep the connections open this long (SIGINT/SIGTERM end it early)")
      ->capture_default_str();
}

BenchCommand::~BenchCommand() = default;

bool BenchCommand::selected() const { return parsed_->bench->parsed(); }

int BenchCommand::run() {
  Parsed& p = *parsed_;

  const std::uint64_t files = core::raise_open_file_limit().now;
  auto check_files = [&](std::uint64_t clients) {
    // Each client is one descriptor; leave a few for stdio, epoll and the CSV file.
    if (files > 0 && clients + 16 > files) {
      std::fprintf(stderr, "warning: %llu clients but only %llu open files allowed\n",
                   static_cast<unsigned long long>(clients),
                   static_cast<unsigned long long>(files));
    }
  };

  if (p.broadcast_cmd->parsed()) {
    if (p.broadcast_clients_opt->count() == 0 && !p.broadcast_steps.empty()) {
      p.broadcast_clients = *std::max_element(p.broadcast_steps.begin(), p.broadcast_steps.end());
    }
    p.broadcast.steps = make_steps(p.broadcast_clients, p.broadcast_step, p.broadcast_steps);
    check_files(p.broadcast.steps.back());
    return run_broadcast(p.broadcast);
  }
  if (p.echo_cmd->parsed()) {
    check_files(p.echo.clients);
    return run_echo(p.echo);
  }
  if (p.fanout_cmd->parsed()) {
    check_files(std::uint64_t{p.fanout.streams} * p.fanout.clients_per_stream);
    return run_fanout(p.fanout);
  }
  if (p.connect_cmd->parsed()) {
    check_files(p.connect.clients);
    return run_connect(p.connect);
  }
  if (p.recover_cmd->parsed()) {
    check_files(p.recover.clients);
    return run_recover(p.recover);
  }
  return 1;  // unreachable: require_subcommand(1)
}

}  // namespace cablecast::bench
