#pragma once
// Whether the RPC backend (--rpc-url) can be reached: every `interval`, one TCP connect to its
// host and port (resolved each time: a backend behind DNS may move), closed at once. Cheap for
// both sides, and it tells "backend down" apart from "backend slow" without an RPC call.
//
// Threads: start(), stop() and the probes run on the loop given; report() on any thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/health_state.hpp"

namespace cablecast::server {

struct ProbeTarget {
  std::string host;
  std::string port;
};

// The host and port to probe for an RPC URL: http://h[:p]/…, https://h[:p]/… (80 and 443 by
// default), grpc://h:p. An error for a URL without a host.
boost::system::result<ProbeTarget> probe_target_for(std::string_view rpc_url);

class RpcProbe {
 public:
  RpcProbe(boost::asio::io_context& io, ProbeTarget target, std::chrono::milliseconds interval);
  ~RpcProbe();
  RpcProbe(const RpcProbe&) = delete;
  RpcProbe& operator=(const RpcProbe&) = delete;

  void start();  // on the loop: the first probe now
  void stop();   // on the loop: cancels the probe in flight and the timer (shutdown)
  RpcProbeReport report() const;

 private:
  void probe();
  void finish(const boost::system::error_code& ec);

  boost::asio::io_context& io_;
  const ProbeTarget target_;
  const std::chrono::milliseconds interval_;
  boost::asio::ip::tcp::resolver resolver_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::asio::steady_timer timeout_;
  boost::asio::steady_timer next_;
  std::uint64_t generation_ = 0;  // the probe in flight; later completions of older ones: ignored
  bool running_ = false;
  mutable std::mutex mutex_;
  RpcProbeReport report_;  // guarded by mutex_
};

}  // namespace cablecast::server
