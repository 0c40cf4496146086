#include "ws/connection.hpp"

#include <sys/uio.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/container/static_vector.hpp>
#include <cerrno>
#include <cstring>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "ws/batch_sender.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/http_body_reader.hpp"
#include "ws/tls_context.hpp"

namespace cablecast::ws {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
// One read fills at most this much of the loop's scratch buffer. 64 KiB keeps large messages
// to a few reads while costing one buffer per loop, not per connection.
constexpr std::size_t kScratchSize = 64 * 1024;
// Linux's writev accepts up to 1024 buffers; 64 per call is plenty to coalesce a burst.
constexpr std::size_t kMaxGather = 64;
// Reads per connection before the loop serves the others (the rest is read on a later turn).
constexpr int kMaxReadsPerTurn = 4;
// TLS: queued frames are gathered into records of at most this size (TLS' own maximum), so a
// burst of small frames costs one record and one write, not one of each per frame.
constexpr std::size_t kTlsRecordSize = 16 * 1024;
// A vector that grew for a burst gives its memory back once drained.
constexpr std::size_t kQueueKeepCapacity = 16;
// Sends per io_uring submission; a bigger flush submits several batches.
constexpr unsigned kBatchCapacity = 256;

bool would_block(const error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// ConnectionContext

ConnectionContext::ConnectionContext(asio::io_context& io, ConnectionLimits limits, Router& router,
                                     std::shared_ptr<const TlsContext> tls, bool batch_sends)
    : io_(io),
      limits_(limits),
      router_(router),
      scratch_(kScratchSize),
      tls_(std::move(tls)),
      sweep_timer_(io) {
  if (tls_) tls_plain_.resize(kTlsRecordSize);
  // TLS writes go through OpenSSL, one connection at a time: nothing to batch.
  if (batch_sends && !tls_) {
    error_code ec;
    batch_ = BatchSender::create(kBatchCapacity, ec);
    if (!batch_) batch_unavailable_ = ec.message();
  }
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

void ConnectionContext::set_tls(std::shared_ptr<const TlsContext> tls) {
  CABLE_ASSERT(tls_ && tls);  // a plain server cannot become a TLS one (the URLs would change)
  tls_ = std::move(tls);
}

void ConnectionContext::stop_accepting_requests() {
  stopping_ = true;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;
    if (c.state_ == Connection::State::reading_request ||
        c.state_ == Connection::State::tls_handshake) {
      c.abort("server shutting down");
    }
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
    if (batch_ && connection->add_to_batch(*batch_)) {
      batched_.push_back(connection);
      if (batch_->full()) send_batch(batched_);
    } else {
      connection->flush();
    }
  }
  if (!batched_.empty()) send_batch(batched_);
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
    // Parsing stops at the end of the header (eager is off): the route decides whether a body
    // is read at all, and its limit (read_body).
    parser.body_limit(boost::none);
  }
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  // Only for a route that takes the body (HTTP broadcasts), once its header is complete.
  std::unique_ptr<BodyHandler> body_handler;
  std::unique_ptr<HttpBodyReader> body;
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
  deadline_ = Clock::now() + context_.limits_.handshake_timeout;  // covers TLS and HTTP
  if (!context_.tls_) return begin_request();
  tls_ = TlsStream::accept(context_.tls_->native(), socket_.native_handle());
  if (!tls_) return abort("cannot allocate a TLS session");
  state_ = State::tls_handshake;
  continue_tls_handshake();
}

void Connection::begin_request() {
  state_ = State::reading_request;
  handshake_ = std::make_unique<Handshake>(context_.limits_.max_request_header);
  // TLS: the request may already sit decrypted in OpenSSL's buffer, so read before waiting.
  if (tls_) return read_available();
  wait_readable();
}

void Connection::continue_tls_handshake() {
  switch (tls_->handshake().status) {
    case TlsStream::Status::done:
      CC_LOG_TRACE("TLS session established ({})", tls_->version());
      return begin_request();
    case TlsStream::Status::want_read:
      return wait_readable();
    case TlsStream::Status::want_write:
      return wait_writable();
    case TlsStream::Status::closed:
      return abort("peer left during the TLS handshake");
    case TlsStream::Status::failed:
      break;
  }
  if (tls_->got_plain_http()) {
    // A plain http:// or ws:// client on the TLS port: tell it in words (as nginx does)
    // instead of a reset it cannot explain. This answer itself goes out unencrypted.
    CC_LOG_INFO("plain HTTP request on the TLS port: answering 400");
    tls_.reset();
    respond(http_response(
        400, "text/plain; charset=utf-8",
        "This port speaks TLS: use https:// or wss:// instead of http:// or ws://\n"));
    return wait_readable();
  }
  CC_LOG_INFO("TLS handshake failed: {}", tls_->error_text());
  abort("TLS handshake failed");
}

// Beast parses the request incrementally from what arrived so far; the buffer (and the parser)
// exist only until the request is complete.
void Connection::parse_request(std::span<const char> bytes) {
  Handshake& h = *handshake_;
  if (h.body) return on_body_progress(h.body->feed(bytes));
  if (bytes.size() > h.buffer.max_size() - h.buffer.size()) {
    return reject_request(http::error::header_limit);
  }
  auto space = h.buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  h.buffer.commit(bytes.size());
  while (!h.parser.is_header_done()) {
    error_code ec;
    std::size_t used = h.parser.put(h.buffer.data(), ec);
    h.buffer.consume(used);
    if (ec == http::error::need_more) return;  // the rest of the request is still on its way
    if (ec) return reject_request(ec);
    if (used == 0) return;
  }
  on_request();
}

void Connection::reject_request(error_code ec) {
  CC_LOG_INFO("bad HTTP request: {}", ec.message());
  const bool too_large = ec == http::error::header_limit || ec == http::error::buffer_overflow;
  respond(too_large
              ? http_response(431, "text/plain; charset=utf-8", "Request header fields too large")
              : http_response(400, "text/plain; charset=utf-8", "Bad request"));
}

void Connection::respond(std::string response) {
  state_ = State::responding;
  after_flush_ = AfterFlush::shutdown_send;
  deadline_ = Clock::now() + context_.limits_.close_timeout;
  enqueue(make_shared_frame(std::move(response)));
  handshake_.reset();
}

void Connection::on_request() {
  const Request& request = handshake_->parser.get();
  Route route = context_.router_.route(request, *this);
  if (route.body) return read_body(std::move(route));
  // A plain answer (page, 404, refused upgrade, 401): any body is left unread (and discarded).
  if (!route.handler) return respond(std::move(route.response));
  // An upgrade request carries no body.
  if (!handshake_->parser.is_done()) return reject_request(http::error::unexpected_body);
  enqueue(make_shared_frame(std::move(route.response)));

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
}

// The body of a route that takes one, within its limit; the handshake deadline still applies.
void Connection::read_body(Route route) {
  Handshake& h = *handshake_;
  h.body_handler = std::move(route.body);
  if (h.parser.is_done()) return respond(h.body_handler->on_body({}));  // no body at all
  if (auto declared = h.parser.content_length(); declared && *declared > route.body_limit) {
    return respond(h.body_handler->on_too_large());  // refused before reading a byte of it
  }
  if (expects_continue(h.parser)) {
    enqueue(make_shared_frame(std::string("HTTP/1.1 100 Continue\r\n\r\n")));
  }
  h.body = std::make_unique<HttpBodyReader>(std::move(h.parser), route.body_limit);
  // Bytes that came with the header are the body's first ones.
  auto leftover = h.buffer.data();
  std::span<const char> first(static_cast<const char*>(leftover.data()), leftover.size());
  BodyStatus status = h.body->feed(first);
  h.buffer.consume(h.buffer.size());
  on_body_progress(status);
}

void Connection::on_body_progress(BodyStatus status) {
  Handshake& h = *handshake_;
  switch (status) {
    case BodyStatus::need_more:
      return;
    case BodyStatus::complete:
      return respond(h.body_handler->on_body(h.body->body()));
    case BodyStatus::too_large:
      return respond(h.body_handler->on_too_large());
    case BodyStatus::malformed:
      return reject_request(h.body->error());
  }
}

void Connection::wait_readable() {
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void Connection::on_readable(error_code ec) {
  if (state_ == State::closed) return;
  if (ec) return abort("socket error while waiting to read");
  if (state_ == State::tls_handshake) return continue_tls_handshake();
  read_available();
}

TlsStream::Outcome Connection::read_some(std::span<char> into) {
  if (tls_) return tls_->read(into);
  error_code ec;
  std::size_t n = socket_.read_some(asio::buffer(into.data(), into.size()), ec);
  if (!ec) return {TlsStream::Status::done, n};
  if (would_block(ec)) return {TlsStream::Status::want_read};
  if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    return {TlsStream::Status::closed};
  }
  return {TlsStream::Status::failed};
}

// Reads what the peer sent, ending with exactly one wait armed (or the connection closed).
void Connection::read_available() {
  auto& scratch = context_.scratch_;
  for (int round = 0; round < kMaxReadsPerTurn; ++round) {
    auto [status, n] = read_some(scratch);
    switch (status) {
      case TlsStream::Status::done:
        break;
      case TlsStream::Status::want_read:
        return wait_readable();
      case TlsStream::Status::want_write:  // TLS only: OpenSSL must write before it reads on
        read_wants_write_ = true;
        if (!waiting_writable_) wait_writable();
        return;
      case TlsStream::Status::closed:
        if (state_ == State::closing || state_ == State::responding) return finish_close();
        if (state_ == State::reading_request) return abort("peer left before a complete request");
        return abort("peer closed the TCP connection");
      case TlsStream::Status::failed:
        if (tls_) CC_LOG_INFO("closing a TLS connection: {}", tls_->error_text());
        return abort("read failed");
    }
    if (n == 0) return wait_readable();
    last_read_ = Clock::now();
    ping_sent_ = false;
    if (state_ == State::reading_request) {
      parse_request(std::span<const char>(scratch.data(), n));
    } else if (state_ != State::responding) {  // responding: discard, we wait for the FIN
      feed(std::span<char>(scratch.data(), n));
    }
    if (state_ == State::closed) return;
    // A short plain read drained the socket: the next bytes raise a new readiness event.
    // TLS reads return one record at a time, so they go on until OpenSSL asks for the socket.
    if (!tls_ && n < scratch.size()) return wait_readable();
  }
  // More is waiting (in the socket or in OpenSSL's buffer): serve the loop's other connections
  // first. Waiting on the socket instead could stall: readiness is edge-triggered, and bytes
  // OpenSSL already holds never raise it.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->state_ != State::closed) self->read_available();
  });
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
    if (binary_log_.allow()) {
      CC_LOG_WARN("ignoring a binary message of {} bytes (Action Cable uses text frames)",
                  payload.size());
    }
    return;
  }
  handler_->on_text(payload);
}

void Connection::on_ping(std::string_view payload) {
  if (state_ != State::open) return;
  SharedFrame pong = make_shared_frame(encode_frame(Opcode::pong, payload));
  // RFC 6455 5.5.3 lets an endpoint answer only the latest of several pings. So a client that
  // pings without reading holds one pong here, not one per ping (300,000 unread pings used to
  // grow the server by 50 MiB). Not while a TLS write waits to be retried: OpenSSL needs the
  // very same bytes again, and they may include this pong.
  const bool untouched =
      unsent_pong_ > queue_head_ || (unsent_pong_ == queue_head_ && head_offset_ == 0);
  if (unsent_pong_ != kNoPong && untouched && tls_retry_bytes_ == 0) {
    SharedFrame& queued = queue_[unsent_pong_];
    CABLE_ASSERT(static_cast<unsigned char>((*queued)[0]) == 0x8A);  // FIN + pong
    queued_bytes_ = queued_bytes_ - queued->size() + pong->size();
    queued = std::move(pong);
    return;
  }
  unsent_pong_ = static_cast<std::uint32_t>(queue_.size());
  send(std::move(pong));  // bounded by --max-outbound-bytes like every other frame
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
  // During a shutdown the last frames (server_restart) must not cost a client everything
  // queued before them; the shutdown deadline bounds the memory instead.
  if (queued_bytes_ + frame->size() > context_.limits_.max_outbound_bytes && !context_.stopping_) {
    CC_LOG_WARN("dropping a slow client: {} bytes queued, limit {} (raise --max-outbound-bytes)",
                queued_bytes_ + frame->size(), context_.limits_.max_outbound_bytes);
    // Reset instead of FIN: a FIN would wait behind the megabytes the client is not reading,
    // keeping them in kernel memory until TCP gives up; a reset frees them now.
    error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
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
  if (tls_) return flush_tls();
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
    consume_written(written);
  }
  on_flushed();
}

// TLS: small frames are copied into one record (one encryption, one write); a frame of a
// record's size or more is encrypted straight from its shared buffer.
void Connection::flush_tls() {
  while (queue_head_ < queue_.size()) {
    const std::string& head = *queue_[queue_head_];
    std::size_t head_left = head.size() - head_offset_;
    // After a write that would block, OpenSSL needs the very same bytes again.
    std::size_t want =
        tls_retry_bytes_ ? tls_retry_bytes_ : std::min(queued_bytes_, kTlsRecordSize);
    std::span<const char> record;
    if (head_left >= want) {
      record = std::span<const char>(head.data() + head_offset_, want);
    } else {
      char* out = context_.tls_plain_.data();
      std::size_t filled = 0;
      std::size_t offset = head_offset_;
      for (std::size_t i = queue_head_; filled < want; ++i, offset = 0) {
        const std::string& bytes = *queue_[i];
        std::size_t take = std::min(bytes.size() - offset, want - filled);
        std::memcpy(out + filled, bytes.data() + offset, take);
        filled += take;
      }
      record = std::span<const char>(out, want);
    }
    auto [status, written] = tls_->write(record);
    switch (status) {
      case TlsStream::Status::done:
        tls_retry_bytes_ = 0;
        consume_written(written);
        continue;
      case TlsStream::Status::want_write:
      case TlsStream::Status::want_read:  // renegotiation is off; treated as a full socket
        tls_retry_bytes_ = static_cast<std::uint16_t>(want);
        return wait_writable();
      case TlsStream::Status::closed:
      case TlsStream::Status::failed:
        return abort("TLS write failed");
    }
  }
  on_flushed();
}

void ConnectionContext::send_batch(std::vector<std::shared_ptr<Connection>>& batched) {
  const bool healthy = batch_->submit();
  // Each connection is told its own outcome; one that closes meanwhile only affects itself.
  for (std::size_t i = 0; i < batched.size(); ++i) batched[i]->batch_sent(batch_->result(i));
  batched.clear();
  batch_->clear();
  if (!healthy) {
    CC_LOG_ERROR(
        "io_uring refused a batch of sends: sending with one sendmsg per connection from "
        "now on");
    batch_unavailable_ = "io_uring refused a batch";
    batch_.reset();
  }
}

bool Connection::add_to_batch(BatchSender& sender) {
  if (state_ == State::closed || waiting_writable_ || tls_ || queue_head_ == queue_.size()) {
    return false;
  }
  boost::container::static_vector<iovec, BatchSender::kMaxBuffers> buffers;
  for (std::size_t i = queue_head_; i < queue_.size() && buffers.size() < buffers.capacity(); ++i) {
    const std::string& bytes = *queue_[i];
    const std::size_t skip = i == queue_head_ ? head_offset_ : 0;
    buffers.push_back(iovec{const_cast<char*>(bytes.data() + skip), bytes.size() - skip});
  }
  sender.add(socket_.native_handle(), buffers);
  return true;
}

void Connection::batch_sent(int result) {
  if (state_ == State::closed) return;
  if (result == -EAGAIN || result == -EWOULDBLOCK) return wait_writable();
  if (result == -ECANCELED) return flush();  // the batch did not happen: send it the plain way
  if (result < 0) return abort("write failed");
  consume_written(static_cast<std::size_t>(result));
  // Frames beyond the batch's buffers, or what a short write left: the plain path (which also
  // runs on_flushed() once the queue is empty).
  flush();
}

void Connection::consume_written(std::size_t written) {
  queued_bytes_ -= written;
  // Closing with frames still queued: the close timeout counts from the last progress, so a
  // client that is still reading gets everything before our close frame.
  if (written > 0 && (state_ == State::closing || state_ == State::responding)) {
    deadline_ = Clock::now() + context_.limits_.close_timeout;
  }
  while (written > 0) {
    std::size_t left = queue_[queue_head_]->size() - head_offset_;
    if (written < left) {
      head_offset_ += written;
      return;
    }
    written -= left;
    queue_[queue_head_++].reset();
    head_offset_ = 0;
  }
  if (queue_head_ < queue_.size()) return;
  queue_.clear();
  queue_head_ = 0;
  unsent_pong_ = kNoPong;
  if (queue_.capacity() > kQueueKeepCapacity) std::vector<SharedFrame>().swap(queue_);
  CABLE_ASSERT(queued_bytes_ == 0);
}

void Connection::wait_writable() {
  waiting_writable_ = true;
  socket_.async_wait(Socket::wait_write,
                     [self = shared_from_this()](error_code ec) { self->on_writable(ec); });
}

void Connection::on_writable(error_code ec) {
  waiting_writable_ = false;
  if (state_ == State::closed) return;
  if (ec) return abort("socket error while waiting to write");
  if (state_ == State::tls_handshake) return continue_tls_handshake();
  if (read_wants_write_) {
    read_wants_write_ = false;
    read_available();
    if (state_ == State::closed) return;
  }
  flush();
}

void Connection::on_flushed() {
  switch (after_flush_) {
    case AfterFlush::nothing:
      return;
    case AfterFlush::shutdown_send: {
      // Our last bytes (close frame or HTTP answer) are out: send FIN and keep reading until
      // the peer answers or closes, so no RST destroys what we just wrote.
      if (tls_) tls_->send_close_notify();
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
  unsent_pong_ = kNoPong;
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
    case State::tls_handshake:
    case State::reading_request:
      if (now >= deadline_) {
        CC_LOG_INFO("handshake timeout: no complete HTTP request within {} ms",
                    context_.limits_.handshake_timeout.count());
        abort("handshake timeout");
      }
      return;
    case State::responding:
    case State::closing:
      // While a shutdown drains, frames still queued ahead of our close frame wait for the
      // shutdown deadline (--shutdown-timeout), not for this connection's close timeout.
      if (context_.stopping_ && queue_head_ < queue_.size()) return;
      if (now >= deadline_) {
        CC_LOG_INFO("closing a connection whose close handshake did not finish within {} ms",
                    context_.limits_.close_timeout.count());
        abort("close handshake timeout");
      }
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
        CC_LOG_INFO(
            "closing an idle connection: nothing received for {} ms",
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
