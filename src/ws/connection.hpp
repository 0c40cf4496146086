#pragma once
// One TCP connection: the HTTP upgrade, then RFC 6455 frames, over a non-blocking Asio socket.
//
// Memory is the design constraint (tens of thousands of mostly idle connections per process):
// - no read buffer per connection: we wait for readability, then read into the loop's scratch
//   buffer (ConnectionSet::scratch_); the frame parser keeps only incomplete bytes;
// - the HTTP parser and its buffer live only during the handshake;
// - no timer per connection: the loop's sweep enforces handshake, idle and close deadlines;
// - no Asio socket: the descriptor sits in the loop's epoll set (ws/ready_set.hpp), registered
//   once, so there is no reactor state nor pending operation per connection;
// - the write queue (ws/outbound_queue.hpp) holds shared frames (pointers), not copies of bytes.
// Writes are batched: send() only queues and registers the connection for the loop's flush,
// which runs once per loop turn and writes everything queued with one gathered write.
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/intrusive/list.hpp>
#include <cablecast/defaults.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/line_budget.hpp"
#include "core/log.hpp"
#include "core/shared_frame.hpp"
#include "ws/access_log.hpp"
#include "ws/frame_parser.hpp"
#include "ws/handshake.hpp"
#include "ws/outbound_queue.hpp"
#include "ws/router.hpp"
#include "ws/tls_stream.hpp"
#include "ws/transport.hpp"

namespace cablecast::ws {

namespace asio = boost::asio;
// A socket bound to io_context's own executor: 8 bytes of executor instead of 48 for
// any_io_executor, and no type erasure on every operation.
using Socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;
using Clock = std::chrono::steady_clock;

struct ConnectionLimits {
  std::size_t max_message_size = defaults::max_message_size;      // close 1009 above it
  std::size_t max_outbound_bytes = defaults::max_outbound_bytes;  // a slow reader is dropped here
  std::size_t max_request_header = 8 * 1024;                      // HTTP upgrade request headers
  std::chrono::milliseconds handshake_timeout = defaults::handshake_timeout;  // slowloris guard
  // Half of it without a byte from the peer: send a WebSocket ping (browsers and `ws` answer
  // on their own, so healthy idle clients stay); no byte within another half: close 1001.
  // A dead peer is closed after 1 to 1.5 times this (the sweep runs once a second). 0 = off.
  std::chrono::milliseconds idle_timeout = defaults::idle_timeout;
  std::chrono::milliseconds close_timeout{2000};  // wait for the peer's close frame
};

class ConnectionSet;                   // ws/connection_set.hpp
class ReadySet;                        // ws/ready_set.hpp
enum class BodyStatus : std::uint8_t;  // ws/http_body_reader.hpp
class TlsContext;   // ws/tls_context.hpp (Asio's SSL headers stay out of this one)
class BatchSender;  // ws/batch_sender.hpp

class Connection final : public Transport,
                         public FrameSink,
                         public std::enable_shared_from_this<Connection>,
                         public boost::intrusive::list_base_hook<> {
 public:
  // Takes the accepted socket's descriptor out of Asio (ws/ready_set.hpp says why).
  Connection(ConnectionSet& set, Socket socket);
  ~Connection();

  void start();
  // Readiness from the loop's epoll set (EPOLLIN, EPOLLOUT, hang-up, error bits).
  void on_ready(std::uint32_t events);

  // Transport
  void send(SharedFrame frame) override;
  void close(std::uint16_t code, std::string_view reason) override;
  std::size_t queued_bytes() const override { return outbound_.bytes(); }
  log::ConnectionId log_id() const override;

  // Heap bytes this connection holds beyond its own object (for tests and memory figures).
  std::size_t buffered_bytes() const;

 private:
  friend class ConnectionSet;
  enum class State : std::uint8_t {
    tls_handshake,    // wss:// only: before any HTTP byte
    reading_request,  // HTTP phase
    responding,       // writing a plain HTTP response, then closing
    open,             // WebSocket frames both ways
    closing,          // our close frame is queued/sent; waiting for the peer's
    closed,           // socket closed; object lives until pending handlers finish
  };
  struct Handshake;  // HTTP parser + buffer, alive only during the handshake

  // FrameSink
  void on_message(Opcode opcode, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(std::optional<std::uint16_t> code, std::string_view reason) override;

  void begin_request();
  void continue_tls_handshake();
  void parse_request(std::span<const char> bytes);
  void reject_request(boost::system::error_code ec);
  void on_request();
  void read_body(Route route);
  void on_body_progress(BodyStatus status);
  // Queues a plain HTTP answer, then ends the connection politely (FIN after it, then wait).
  void respond(std::string response);
  void wait_readable();
  void on_readable();
  void read_available();
  TlsStream::Outcome read_some(std::span<char> into);
  void feed(std::span<char> bytes);
  // Whether `bytes` more fit under --max-outbound-bytes; if not, drops the slow client.
  inline bool admit(std::size_t bytes);
  void drop_slow_client(std::size_t queued);
  void enqueue(SharedFrame frame);
  // Puts the connection on the loop's flush list unless it is there or waits for room.
  void schedule_flush();
  void flush();
  void flush_tls();
  // Batched flush (io_uring): queues this connection's next send in `sender` and returns true,
  // or returns false when it must go through flush() (TLS, nothing queued, waiting for room).
  bool add_to_batch(BatchSender& sender);
  // The outcome of that send (bytes or -errno); the rest, if any, goes through flush().
  void batch_sent(int result);
  void consume_written(std::size_t written);
  void wait_writable();
  void on_writable();
  // Closes the descriptor and lets go of the connection's own reference (later, on a clean
  // stack): from then on only pending handlers keep it alive.
  void close_descriptor();
  void unlink();
  void on_flushed();
  void start_close(std::uint16_t code, std::string_view reason);
  void finish_close();
  void abort(const char* why);
  void notify_closed();
  // The deadlines of the current state, from the set's sweep once a second
  // (ws/connection_sweep.cpp).
  void sweep(Clock::time_point now);
  // Records why the connection ends (the first cause wins) for the access log.
  void ended(EndReason reason) {
    if (end_ == EndReason::unknown) end_ = reason;
  }
  // The access log line of an upgraded connection, once, while the socket is still open.
  void log_access_line();

  ConnectionSet& set_;
  // Alive while the descriptor is open: what a pending wait's handler held before.
  std::shared_ptr<Connection> self_;
  std::unique_ptr<Handshake> handshake_;
  std::unique_ptr<TlsStream> tls_;  // wss:// only
  std::unique_ptr<MessageHandler> handler_;
  FrameParser parser_;
  OutboundQueue outbound_;       // what is yet to be written: 48 B, no heap once drained and swept
  Clock::time_point deadline_;   // handshake / close / idle-probe deadline, by state
  Clock::time_point last_read_;  // last byte from the peer (idle timeout)
  int fd_ = -1;
  State state_ = State::reading_request;
  bool waiting_readable_ = false;
  bool waiting_writable_ = false;
  // Edges that came while nothing waited for them (epoll reports each once): the next wait
  // takes them instead of sleeping.
  bool ready_in_ = false;
  bool ready_out_ = false;
  bool in_flush_list_ = false;
  bool ping_sent_ = false;         // idle probe sent since the last byte from the peer
  bool read_wants_write_ = false;  // TLS: a read must be retried once the socket is writable
  enum class AfterFlush : std::uint8_t { nothing, shutdown_send, close_socket };
  AfterFlush after_flush_ = AfterFlush::nothing;
  std::uint16_t tls_retry_bytes_ = 0;  // TLS: size of a write that must be retried as is
  log::LineBudget binary_log_;         // binary messages are ignored, and logged within this budget
  // The access log (ws/access_log.hpp): 56 bytes, no allocation. Path and sub-protocol are
  // indices into the loop's table of names (ConnectionSet::intern). The peer's address is
  // kept from the upgrade: once both sides closed, the kernel no longer tells it.
  std::uint32_t seq_;  // the id in logs is <loop>-<seq_>
  std::uint16_t close_code_ = kNoCloseFrame;
  std::uint16_t remote_port_ = 0;                 // 0: unknown
  asio::ip::address_v6::bytes_type remote_ip_{};  // IPv4 as v4-mapped
  EndReason end_ = EndReason::unknown;
  static constexpr std::uint8_t kNotUpgraded = UINT8_MAX;
  std::uint8_t path_name_ = kNotUpgraded;  // kNotUpgraded: no access line (plain HTTP)
  std::uint8_t subprotocol_name_ = 0;
  Clock::time_point opened_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

}  // namespace cablecast::ws
