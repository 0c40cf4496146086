#pragma once
// The connections of one event loop (ws/connection.hpp): what they share on that loop (the
// read buffer, the flush of each turn, the sweep of deadlines).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/loop_metrics.hpp"
#include "ws/connection.hpp"
#include "ws/ready_set.hpp"

namespace cablecast::ws {

// Per event loop: the connections of this loop, the shared read buffer and the flush list.
// Everything here is touched only by the loop's own thread.
class ConnectionSet {
 public:
  // With `tls`, every connection speaks TLS first (wss://, https://). With `batch_sends`, the
  // flush of each loop turn sends to all plain connections with one io_uring submission
  // (ws/batch_sender.hpp) when the kernel allows it; batch_sends_active() tells. Bytes, slow
  // clients and malformed requests are counted in `metrics` (null: a block of its own).
  ConnectionSet(asio::io_context& io, ConnectionLimits limits, Router& router,
                std::shared_ptr<const TlsContext> tls = nullptr, bool batch_sends = false,
                metrics::LoopMetrics* metrics = nullptr);
  ~ConnectionSet();
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  // Takes ownership of an accepted socket (already on this loop) and starts the handshake.
  void adopt(Socket socket);

  // Closes every connection that has not upgraded yet and stops the sweep timer; upgraded
  // connections are closed by their handlers (graceful shutdown).
  void stop_accepting_requests();
  // Aborts every remaining connection at once (end of the shutdown deadline).
  void abort_all();

  // Connections accepted from now on use `tls` (certificate rotation); open ones keep theirs.
  void set_tls(std::shared_ptr<const TlsContext> tls);

  std::size_t size() const { return connections_.size(); }
  bool batch_sends_active() const { return batch_ != nullptr; }
  // Why batching is off although asked for (e.g. "Operation not permitted"); empty otherwise.
  const std::string& batch_sends_unavailable() const { return batch_unavailable_; }
  const ConnectionLimits& limits() const { return limits_; }
  // The index of this set's event loop: the first part of its connections' ids in logs.
  void set_loop_index(std::uint32_t index) { loop_index_ = index; }

 private:
  friend class Connection;
  using ConnectionList =
      boost::intrusive::list<Connection, boost::intrusive::constant_time_size<true>>;

  void schedule_flush(std::shared_ptr<Connection> connection);
  void flush_all();
  void send_batch(std::vector<std::shared_ptr<Connection>>& batched);
  void arm_sweep();
  void sweep();
  // The next connection number of this loop (never 0, which means "no connection" in logs).
  std::uint32_t next_connection_seq();
  // Paths and sub-protocols of access log lines, kept once per loop so that a connection holds
  // a one-byte index. They come from a short list (the mount path, the sub-protocols we
  // accept); past kMaxNames distinct ones, the rest share the name "other".
  static constexpr std::size_t kMaxNames = 64;
  std::uint8_t intern(std::string_view name);
  std::string_view name(std::uint8_t index) const;

  asio::io_context& io_;
  ReadySet ready_;                                     // readiness of every connection of this loop
  std::unique_ptr<metrics::LoopMetrics> own_metrics_;  // when the loop gave none
  metrics::LoopMetrics& metrics_;
  ConnectionLimits limits_;
  Router& router_;
  std::vector<char> scratch_;  // read buffer shared by all connections
  std::shared_ptr<const TlsContext> tls_;
  // TLS: queued frames are gathered into records of at most this size (TLS' own maximum), so a
  // burst of small frames costs one record and one write, not one of each per frame.
  static constexpr std::size_t kTlsRecordSize = 16 * 1024;
  std::vector<char> tls_plain_;  // TLS: queued frames gathered into one record before writing
  ConnectionList connections_;   // every live connection of this loop
  std::vector<std::shared_ptr<Connection>> flush_list_;
  bool flush_posted_ = false;
  std::unique_ptr<BatchSender> batch_;  // null: one sendmsg per connection
  std::string batch_unavailable_;
  std::vector<std::shared_ptr<Connection>> batched_;  // connections in the batch being built
  asio::steady_timer sweep_timer_;
  bool stopping_ = false;
  std::uint32_t loop_index_ = 0;
  std::uint32_t last_seq_ = 0;
  std::vector<std::string> names_;
};

}  // namespace cablecast::ws
