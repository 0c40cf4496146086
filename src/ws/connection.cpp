#include "ws/connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/container/static_vector.hpp>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::ws {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
// One read fills at most this much of the loop's scratch buffer. 64 KiB keeps large messages
// to a few reads while costing one buffer per loop, not per connection.
constexpr std::size_t kScratchSize = 64 * 1024;
// Linux's writev accepts up to 1024 buffers; 64 per call is plenty to coalesce a burst.
constexpr std::size_t kMaxGather = 64;
// A vector that grew for a burst gives its memory back once drained.
constexpr std::size_t kQueueKeepCapacity = 16;

bool would_block(const error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// ConnectionContext

ConnectionContext::ConnectionContext(asio::io_context& io, ConnectionLimits limits,
                                     Router& router)
    : io_(io), limits_(limits), router_(router), scratch_(kScratchSize), sweep_timer_(io) {
  arm_sweep();
}

ConnectionContext::~ConnectionContext() {
  // Connections unlink themselves when destroyed; any still here are leaked references,
  // which would then touch a dead context.
  CABLE_ASSERT(connections_.empty());
}

void ConnectionContext::adopt(Socket socket) {
  auto connection = std::make_shared<Connection>(*this, std::move(socket));
  connections_.push_back(*connection);
  connection->start();
}

void ConnectionContext::stop_accepting_requests() {
  stopping_ = true;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;
    if (c.state_ == Connection::State::reading_request) c.abort("server shutting down");
  }
}

void ConnectionContext::abort_all() {
  stopping_ = true;
  sweep_timer_.cancel();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;
    c.abort("shutdown deadline reached");
  }
}

void ConnectionContext::schedule_flush(std::shared_ptr<Connection> connection) {
  flush_list_.push_back(std::move(connection));
  if (flush_posted_) return;
  flush_posted_ = true;
  // Runs after everything already queued on the loop (e.g. a burst of deliveries), so each
  // connection writes once for all the frames it got in this turn.
  asio::post(io_, [this] { flush_all(); });
}

void ConnectionContext::flush_all() {
  flush_posted_ = false;
  auto batch = std::move(flush_list_);
  flush_list_.clear();
  for (auto& connection : batch) {
    connection->in_flush_list_ = false;
    connection->flush();
  }
  // Keep the capacity for the next turn unless a huge burst inflated it.
  if (batch.capacity() > 4096) batch = {};
  batch.clear();
  if (flush_list_.empty()) flush_list_ = std::move(batch);
}

void ConnectionContext::arm_sweep() {
  if (stopping_ && connections_.empty()) return;
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this](error_code ec) {
    if (ec) return;
    sweep();
    arm_sweep();
  });
}

void ConnectionContext::sweep() {
  auto now = Clock::now();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;  // advance first: sweeping may unlink c
    c.sweep(now);
  }
}

// ---------------------------------------------------------------------------------------------
// Connection

struct Connection::Handshake {
  explicit Handshake(std::size_t header_limit) : buffer(header_limit + 1024) {
    parser.header_limit(static_cast<std::uint32_t>(header_limit));
    parser.body_limit(0);
  }
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
};

Connection::Connection(ConnectionContext& context, Socket socket)
    : context_(context),
      socket_(std::move(socket)),
      parser_(ParserOptions{context.limits_.max_message_size, true}) {}

Connection::~Connection() {
  if (is_linked()) context_.connections_.erase(context_.connections_.iterator_to(*this));
}

void Connection::start() {
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // small frames must not wait 40 ms
  socket_.non_blocking(true, ec);
  if (ec) return abort("cannot make socket non-blocking");
  deadline_ = Clock::now() + context_.limits_.handshake_timeout;
  handshake_ = std::make_unique<Handshake>(context_.limits_.max_request_header);
  read_request();
}

void Connection::read_request() {
  http::async_read(socket_, handshake_->buffer, handshake_->parser,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
}

void Connection::on_request(error_code ec) {
  if (state_ != State::reading_request) return;  // aborted meanwhile (timeout, shutdown)
  if (ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return abort("peer left before a complete request");
    }
    CC_LOG_INFO("bad HTTP request: {}", ec.message());
    state_ = State::responding;
    after_flush_ = AfterFlush::shutdown_send;
    deadline_ = Clock::now() + context_.limits_.close_timeout;
    const bool too_large = ec == http::error::header_limit || ec == http::error::buffer_overflow;
    enqueue(make_shared_frame(too_large ? http_response(431, "text/plain; charset=utf-8",
                                                        "Request header fields too large")
                                        : http_response(400, "text/plain; charset=utf-8",
                                                        "Bad request")));
    handshake_.reset();
    return wait_readable();
  }

  const Request& request = handshake_->parser.get();
  Route route = context_.router_.route(request, *this);
  enqueue(make_shared_frame(std::move(route.response)));
  if (!route.handler) {
    // A plain HTTP answer (demo page, 404, refused upgrade): write it, then end politely.
    state_ = State::responding;
    after_flush_ = AfterFlush::shutdown_send;
    deadline_ = Clock::now() + context_.limits_.close_timeout;
    handshake_.reset();
    return wait_readable();
  }

  state_ = State::open;
  last_read_ = Clock::now();
  handler_ = std::move(route.handler);
  // Bytes that arrived behind the request are already frames (clients may send at once).
  std::string leftover(static_cast<const char*>(handshake_->buffer.data().data()),
                       handshake_->buffer.size());
  {
    error_code remote_ec;
    auto remote = socket_.remote_endpoint(remote_ec);
    std::string address = remote_ec ? std::string("unknown") : remote.address().to_string();
    handler_->on_open(UpgradeInfo{request, address, route.subprotocol});
  }
  handshake_.reset();  // the request is not needed any more: free parser and buffer
  if (!leftover.empty()) feed(std::span<char>(leftover.data(), leftover.size()));
  if (state_ == State::open || state_ == State::closing) wait_readable();
}

void Connection::wait_readable() {
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void Connection::on_readable(error_code ec) {
  if (state_ == State::closed) return;
  if (ec) return abort("socket error while waiting to read");
  auto& scratch = context_.scratch_;
  // A few reads per wake-up at most, so one busy client cannot starve the loop.
  for (int round = 0; round < 4; ++round) {
    std::size_t n = socket_.read_some(asio::buffer(scratch), ec);
    if (would_block(ec)) break;
    if (ec) {
      if (state_ == State::closing || state_ == State::responding) return finish_close();
      return abort(ec == asio::error::eof ? "peer closed the TCP connection" : "read failed");
    }
    last_read_ = Clock::now();
    ping_sent_ = false;
    if (state_ == State::responding) continue;  // discard: we only wait for the peer's FIN
    feed(std::span<char>(scratch.data(), n));
    if (state_ == State::closed) return;
    if (n < scratch.size()) break;
  }
  wait_readable();
}

void Connection::feed(std::span<char> bytes) {
  if (parser_.finished()) return;
  if (auto error = parser_.feed(bytes, *this)) {
    CC_LOG_INFO("closing connection {}: {}", error->close_code, error->reason);
    start_close(error->close_code, error->reason);
  }
}

void Connection::on_message(Opcode opcode, std::string_view payload) {
  if (state_ != State::open || !handler_) return;  // after a close: ignored, as Rails does
  if (opcode != Opcode::text) {
    // Action Cable speaks JSON text only; Rails 6.1 logs binary frames and drops them.
    CC_LOG_WARN("ignoring a binary message of {} bytes (Action Cable uses text frames)",
                payload.size());
    return;
  }
  handler_->on_text(payload);
}

void Connection::on_ping(std::string_view payload) {
  if (state_ == State::open) enqueue(make_shared_frame(encode_frame(Opcode::pong, payload)));
}

void Connection::on_pong(std::string_view) {}  // liveness only: last_read_ was updated

void Connection::on_close(std::optional<std::uint16_t> code, std::string_view reason) {
  if (state_ == State::closing) {  // the answer to our close frame
    if (queue_head_ < queue_.size()) {
      after_flush_ = AfterFlush::close_socket;
      return;
    }
    return finish_close();
  }
  if (state_ != State::open) return;
  // The peer started the close: echo its code and reason (RFC 6455 5.5.1; a bodiless close is
  // answered with 1000, as websocket-driver does for Rails), then the server closes TCP.
  enqueue(make_shared_frame(encode_close(code.value_or(close_code::normal), code ? reason : "")));
  state_ = State::closing;
  after_flush_ = AfterFlush::close_socket;
  deadline_ = Clock::now() + context_.limits_.close_timeout;
  notify_closed();
}

void Connection::send(SharedFrame frame) {
  if (state_ != State::open) return;  // closing: nothing more goes out after the close frame
  if (queued_bytes_ + frame->size() > context_.limits_.max_outbound_bytes) {
    CC_LOG_WARN("dropping a slow client: {} bytes queued, limit {} (raise --max-outbound-bytes)",
                queued_bytes_ + frame->size(), context_.limits_.max_outbound_bytes);
    return abort("outbound buffer limit reached");
  }
  enqueue(std::move(frame));
}

void Connection::close(std::uint16_t code, std::string_view reason) { start_close(code, reason); }

void Connection::start_close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  enqueue(make_shared_frame(encode_close(code, reason)));
  state_ = State::closing;
  after_flush_ = AfterFlush::shutdown_send;
  deadline_ = Clock::now() + context_.limits_.close_timeout;
  notify_closed();
}

void Connection::enqueue(SharedFrame frame) {
  queued_bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  if (!in_flush_list_ && !waiting_writable_) {
    in_flush_list_ = true;
    context_.schedule_flush(shared_from_this());
  }
}

void Connection::flush() {
  if (state_ == State::closed || waiting_writable_) return;
  while (queue_head_ < queue_.size()) {
    boost::container::static_vector<asio::const_buffer, kMaxGather> buffers;
    for (std::size_t i = queue_head_; i < queue_.size() && buffers.size() < kMaxGather; ++i) {
      const std::string& bytes = *queue_[i];
      std::size_t skip = i == queue_head_ ? head_offset_ : 0;
      buffers.emplace_back(bytes.data() + skip, bytes.size() - skip);
    }
    error_code ec;
    std::size_t written = socket_.write_some(buffers, ec);
    if (would_block(ec)) return wait_writable();
    if (ec) return abort("write failed");
    queued_bytes_ -= written;
    while (written > 0) {
      std::size_t left = queue_[queue_head_]->size() - head_offset_;
      if (written < left) {
        head_offset_ += written;
        break;
      }
      written -= left;
      queue_[queue_head_++].reset();
      head_offset_ = 0;
    }
  }
  queue_.clear();
  queue_head_ = 0;
  if (queue_.capacity() > kQueueKeepCapacity) std::vector<SharedFrame>().swap(queue_);
  CABLE_ASSERT(queued_bytes_ == 0);
  on_flushed();
}

void Connection::wait_writable() {
  waiting_writable_ = true;
  socket_.async_wait(Socket::wait_write, [self = shared_from_this()](error_code ec) {
    self->waiting_writable_ = false;
    if (self->state_ == State::closed) return;
    if (ec) return self->abort("socket error while waiting to write");
    self->flush();
  });
}

void Connection::on_flushed() {
  switch (after_flush_) {
    case AfterFlush::nothing:
      return;
    case AfterFlush::shutdown_send: {
      // Our last bytes (close frame or HTTP answer) are out: send FIN and keep reading until
      // the peer answers or closes, so no RST destroys what we just wrote.
      error_code ec;
      socket_.shutdown(Socket::shutdown_send, ec);
      after_flush_ = AfterFlush::nothing;
      return;
    }
    case AfterFlush::close_socket:
      return finish_close();
  }
}

void Connection::finish_close() {
  if (state_ == State::closed) return;
  error_code ec;
  socket_.close(ec);
  state_ = State::closed;
  if (is_linked()) context_.connections_.erase(context_.connections_.iterator_to(*this));
  notify_closed();
}

void Connection::abort(const char* why) {
  if (state_ == State::closed) return;
  CC_LOG_DEBUG("connection aborted: {}", why);
  error_code ec;
  socket_.close(ec);  // completes pending waits with operation_aborted, releasing references
  state_ = State::closed;
  queue_.clear();
  queue_head_ = 0;
  head_offset_ = 0;
  queued_bytes_ = 0;
  if (is_linked()) context_.connections_.erase(context_.connections_.iterator_to(*this));
  notify_closed();
}

void Connection::notify_closed() {
  if (!handler_) return;
  // Deferred: we may be inside the handler's own call (close() from a command, send() from a
  // delivery loop); the handler learns of the end on a clean stack.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (auto handler = std::move(self->handler_)) handler->on_closed();
  });
}

void Connection::sweep(Clock::time_point now) {
  switch (state_) {
    case State::reading_request:
      if (now >= deadline_) {
        CC_LOG_INFO("handshake timeout: no complete HTTP request within {} ms",
                    context_.limits_.handshake_timeout.count());
        abort("handshake timeout");
      }
      return;
    case State::responding:
    case State::closing:
      if (now >= deadline_) abort("close handshake timeout");
      return;
    case State::open: {
      auto idle = context_.limits_.idle_timeout;
      if (idle.count() == 0) return;
      if (!ping_sent_) {
        if (now - last_read_ >= idle / 2) {
          // Half the timeout without a byte: probe. Browsers and `ws` answer pings by
          // themselves; any byte from the peer (the pong) clears ping_sent_ in on_readable.
          ping_sent_ = true;
          deadline_ = now + idle / 2;  // in the open state deadline_ is the probe's deadline
          enqueue(make_shared_frame(encode_frame(Opcode::ping, {})));
        }
      } else if (now >= deadline_) {
        // The probe went unanswered for half the timeout: the peer has been silent for at
        // least the whole timeout, and it had a full half of it to answer one ping.
        CC_LOG_INFO("closing an idle connection: nothing received for {} ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - last_read_).count());
        start_close(close_code::going_away, "idle timeout");
      }
      return;
    }
    case State::closed:
      return;
  }
}

std::size_t Connection::buffered_bytes() const {
  return parser_.buffered_bytes() + queue_.capacity() * sizeof(SharedFrame) +
         (handshake_ ? sizeof(Handshake) + handshake_->buffer.capacity() : 0);
}

}  // namespace cablecast::ws
