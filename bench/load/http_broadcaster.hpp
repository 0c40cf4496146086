#pragma once
// Numbered broadcasts through the server's HTTP broadcast API (POST /_broadcast, as an
// application sends them: docs/broadcasting.md), at a fixed rate from a thread of its own, so
// the client loops only receive. Blocking Boost.Beast over one keep-alive connection, reopened
// when the server closes it. Each broadcast's data is the benchmark's own command data
// (mode_support.hpp: action "broadcast", slot 0, seq, send time), so clients check delivery
// with the same SequenceCheck as the broadcast mode.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace cablecast::bench {

struct HttpBroadcastTarget {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/_broadcast";
  std::string key;     // Authorization: Bearer <key>
  std::string stream;  // e.g. "allbench", BenchmarkChannel's stream for id "bench"
};

class HttpBroadcaster {
 public:
  HttpBroadcaster(HttpBroadcastTarget target, double rate_per_s, unsigned payload_bytes);
  ~HttpBroadcaster();  // stops
  HttpBroadcaster(const HttpBroadcaster&) = delete;
  HttpBroadcaster& operator=(const HttpBroadcaster&) = delete;

  void start();
  // Stops after the request in flight. A request that failed is sent again with the same
  // sequence number, so [0, sent()) were all accepted (201) by the server.
  void stop();
  std::uint32_t sent() const { return sent_.load(); }
  std::uint64_t failures() const { return failures_.load(); }
  std::string last_error() const;

 private:
  void run();

  const HttpBroadcastTarget target_;
  const double rate_;
  const std::string payload_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint32_t> sent_{0};
  std::atomic<std::uint64_t> failures_{0};
  mutable std::mutex error_mutex_;  // failures are rare: a lock is fine
  std::string last_error_;
  std::thread thread_;
};

}  // namespace cablecast::bench
