#pragma once
// One Action Cable client on one TCP connection, as the load generator drives it: connect from
// a chosen source address, upgrade to WebSocket (actioncable-v1-json), wait for "welcome",
// subscribe to one BenchmarkChannel stream, then hand every message to its Worker.
//
// With AnyCable's extended protocol (actioncable-v1-ext-json, Target::ext_protocol) it also
// keeps its sid and the last stream position it received, so that after cut() it can come back
// as @anycable/core does: reconnect with the sid (X-AnyCable-Restore-Sid), expect a restored
// welcome, and ask for the history after that position instead of subscribing again.
//
// Kept small on purpose (the generator holds 19k+ of them): no read buffer of its own (reads go
// to the worker's scratch buffer, as in the server), an outbox only while a write is pending,
// and the handshake state is freed once the connection is open.
//
// Asio only connects the socket; then the client takes the descriptor out of Asio's reactor
// and its worker's ReadySet reports readiness (one edge-triggered registration for the
// connection's life). Why: Asio re-arms every async_wait with an epoll_ctl(MOD), and an
// async_receive costs a speculative recv() that finds nothing, so each received message cost
// two system calls; here it costs one recv() (measured in docs/benchmarks.md: the generator
// spent ~18 % of its CPU in epoll_ctl at 1,000 clients, and system calls cost ~1 us each on
// the benchmark VM).
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server_frame.hpp"
#include "ws/frame_parser.hpp"

namespace cablecast::bench {

class Worker;

class Client final : private ws::FrameSink {
 public:
  enum class State : std::uint8_t {
    idle,         // created, not started
    connecting,   // TCP connect in progress
    handshaking,  // upgrade request sent, waiting for 101
    welcoming,    // upgraded, waiting for {"type":"welcome"}
    subscribing,  // subscribe sent, waiting for confirm_subscription
    restoring,    // restored welcome got, history asked, waiting for confirm/reject_history
    subscribed,   // ready: broadcasts flow
    closed,       // failed or closed on purpose
  };

  Client(Worker& worker, std::uint32_t index, std::uint32_t stream);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // All below on the worker's thread.
  void start();
  // Sends {"command":"message","identifier":<its subscription>,"data":<data_json as string>}.
  // Ignored unless subscribed.
  void perform(std::string_view data_json);
  // Closes the socket without reporting a failure.
  void close();
  // Gives up on a connection still being set up (reported as a failure with `reason`).
  void abandon(std::string_view reason);
  // Drops the connection as a network failure would (RST, no close frame), without reporting a
  // failure; then restart() connects again, restoring the session when it has a sid.
  void cut();
  // After cut() or close(): back to idle, so the worker can start() it again.
  void restart();

  std::uint32_t index() const { return index_; }
  std::uint32_t stream() const { return stream_; }
  State state() const { return state_; }

 private:
  struct Handshake;
  // Extended protocol: what the client needs to come back (allocated at its first welcome).
  struct Resume {
    std::string sid;
    std::string stream;  // stream_id of the messages received, with their last position
    std::string epoch;
    std::int64_t offset = -1;     // -1: nothing received yet
    std::int64_t since_unix = 0;  // when first welcomed: history "since" without a position
    bool restore_next = false;    // the next connection restores `sid`
  };

  friend class ReadySet;  // delivers readiness
  friend class Worker;    // read_again()

  void on_connected(boost::system::error_code ec);
  // Readiness from the worker's ReadySet (edge-triggered: read until drained).
  void on_readable();
  void on_writable();
  // Handles bytes from the socket; false once the client is closed.
  bool consume(std::span<char> bytes);
  // Consumes the HTTP response; returns the bytes after it (already frames), or nullopt while
  // the response is incomplete or after a failure.
  std::optional<std::string> take_response(std::span<const char> bytes);
  void feed(std::span<char> bytes);
  void write(std::string_view bytes);
  void on_welcome(const ServerFrame& frame);
  void send_subscribe();
  void send_history_request();
  void fail(std::string_view reason);
  void close_descriptor();

  // ws::FrameSink
  void on_message(ws::Opcode opcode, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(std::optional<std::uint16_t> code, std::string_view reason) override;

  Worker& worker_;
  boost::asio::ip::tcp::socket socket_;  // until connected; then the descriptor is fd_
  int fd_ = -1;
  ws::FrameParser parser_;
  std::string outbox_;                    // bytes the socket did not take yet
  std::unique_ptr<Handshake> handshake_;  // only between connect and 101
  std::unique_ptr<Resume> resume_;        // extended protocol only
  std::uint32_t index_;
  std::uint32_t stream_;
  State state_ = State::idle;
};

}  // namespace cablecast::bench
