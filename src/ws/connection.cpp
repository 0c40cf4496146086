// The WebSocket half of a Connection: readiness, reads into the frame parser, the write paths
// over its OutboundQueue (sendmsg, the loop's io_uring batch, TLS records), and closing. The
// HTTP half is in ws/connection_handshake.cpp, the deadlines in ws/connection_sweep.cpp.
#include "ws/connection.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "ws/batch_sender.hpp"
#include "ws/connection_handshake.hpp"
#include "ws/connection_set.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/ready_set.hpp"
#include "ws/tls_context.hpp"

namespace cablecast::ws {

using boost::system::error_code;

// docs/architecture.md "Memory per idle connection" counts this object byte by byte, tens of
// thousands of times per process: a new member must find room (304 B before the outbound queue
// became its own class, 296 B since, 264 B with the packed frame parser).
static_assert(sizeof(Connection) <= 264, "ws::Connection grew: see docs/architecture.md");

namespace {
// Reads per connection before the loop serves the others (the rest is read on a later turn).
constexpr int kMaxReadsPerTurn = 4;

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// The accepted descriptor, out of Asio's reactor (release() frees its reactor state); -1 if
// Asio refuses, which start() reports.
int take_descriptor(Socket& socket) {
  error_code ec;
  const int fd = socket.release(ec);
  return ec ? -1 : fd;
}
}  // namespace

Connection::Connection(ConnectionSet& set, Socket socket)
    : set_(set),
      parser_(ParserOptions{set.limits_.max_message_size, true}),
      fd_(take_descriptor(socket)),
      seq_(set.next_connection_seq()),
      opened_(Clock::now()) {}

Connection::~Connection() {
  unlink();
  if (fd_ >= 0) {  // never started, or the set went away first
    set_.ready_.remove(fd_);
    ::close(fd_);
  }
}

void Connection::unlink() {
  if (!is_linked()) return;
  set_.connections_.erase(set_.connections_.iterator_to(*this));
  if (set_.connections_.empty()) set_.ready_.pause();
}

void Connection::close_descriptor() {
  if (fd_ < 0) return;
  set_.ready_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  // Destroyed after the current handler: a batch of epoll events may still name it.
  asio::post(set_.io_, [keep = std::move(self_)] {});
}

log::ConnectionId Connection::log_id() const { return {set_.loop_index_, seq_}; }

void Connection::start() {
  log::ConnectionScope scope(log_id());
  self_ = shared_from_this();
  if (fd_ < 0) return abort("cannot take the socket from Asio");
  const int one = 1;  // small frames must not wait 40 ms
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    return abort("cannot make socket non-blocking");
  }
  if (auto added = set_.ready_.add(fd_, *this); !added) {
    CC_LOG_WARN("cannot watch a new connection: {}", added.error().message());
    return abort("cannot watch the socket");
  }
  deadline_ = Clock::now() + set_.limits_.handshake_timeout;  // covers TLS and HTTP
  if (!set_.tls_) return begin_request();
  tls_ = TlsStream::accept(set_.tls_->native(), fd_);
  if (!tls_) return abort("cannot allocate a TLS session");
  state_ = State::tls_handshake;
  continue_tls_handshake();
}

void Connection::on_ready(std::uint32_t events) {
  // Hang-up and error wake both directions: the next read or write tells what happened.
  constexpr std::uint32_t kAny = EPOLLHUP | EPOLLERR;
  if (events & (EPOLLIN | EPOLLRDHUP | kAny)) {
    if (waiting_readable_) {
      on_readable();
    } else {
      ready_in_ = true;
    }
  }
  if (events & (EPOLLOUT | kAny)) {
    if (waiting_writable_) {
      on_writable();
    } else {
      ready_out_ = true;
    }
  }
}

void Connection::wait_readable() {
  if (!ready_in_) {
    waiting_readable_ = true;
    return;
  }
  // The edge came while we were not waiting (between reads, or before the first wait).
  ready_in_ = false;
  waiting_readable_ = true;
  asio::post(set_.io_, [self = shared_from_this()] {
    if (self->waiting_readable_) self->on_readable();
  });
}

void Connection::on_readable() {
  waiting_readable_ = false;
  if (state_ == State::closed) return;
  log::ConnectionScope scope(log_id());
  if (state_ == State::tls_handshake) return continue_tls_handshake();
  read_available();
}

TlsStream::Outcome Connection::read_some(std::span<char> into) {
  if (tls_) return tls_->read(into);
  const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
  if (n > 0) return {TlsStream::Status::done, static_cast<std::size_t>(n)};
  if (n == 0) return {TlsStream::Status::closed};
  if (would_block(errno)) return {TlsStream::Status::want_read};
  if (errno == ECONNRESET) return {TlsStream::Status::closed};
  return {TlsStream::Status::failed};
}

// Reads what the peer sent, ending with exactly one wait armed (or the connection closed).
void Connection::read_available() {
  auto& scratch = set_.scratch_;
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
        ended(EndReason::client_disconnected);
        return abort("peer closed the TCP connection");
      case TlsStream::Status::failed:
        if (tls_) CC_LOG_INFO("closing a TLS connection: {}", tls_->error_text());
        return abort("read failed");
    }
    if (n == 0) return wait_readable();
    bytes_in_ += n;
    set_.metrics_.bytes_received.add(n);  // once per read, not per message
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
  asio::post(set_.io_, [self = shared_from_this()] {
    if (self->state_ == State::closed) return;
    log::ConnectionScope scope(self->log_id());
    self->read_available();
  });
}

void Connection::feed(std::span<char> bytes) {
  if (parser_.finished()) return;
  if (auto error = parser_.feed(bytes, *this)) {
    CC_LOG_INFO("closing connection {}: {}", error->close_code, error->reason);
    ended(EndReason::protocol_error);
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
  // Only the latest ping is answered (OutboundQueue::replace_pong): 300,000 unread pings used to
  // grow the server by 50 MiB. Not while a TLS write waits to be retried: OpenSSL needs the
  // very same bytes again, and they may include the queued pong.
  if (tls_retry_bytes_ == 0 && outbound_.replace_pong(pong)) return;
  if (!admit(pong->size())) return;  // bounded by --max-outbound-bytes like every other frame
  outbound_.push_pong(std::move(pong));
  schedule_flush();
}

void Connection::on_pong(std::string_view) {}  // liveness only: last_read_ was updated

void Connection::on_close(std::optional<std::uint16_t> code, std::string_view reason) {
  if (state_ == State::closing) {  // the answer to our close frame
    if (!outbound_.empty()) {
      after_flush_ = AfterFlush::close_socket;
      return;
    }
    return finish_close();
  }
  if (state_ != State::open) return;
  ended(EndReason::client_closed);
  close_code_ = code.value_or(close_code::no_status);
  // The peer started the close: echo its code and reason (RFC 6455 5.5.1; a bodiless close is
  // answered with 1000, as websocket-driver does for Rails), then the server closes TCP.
  enqueue(make_shared_frame(encode_close(code.value_or(close_code::normal), code ? reason : "")));
  state_ = State::closing;
  after_flush_ = AfterFlush::close_socket;
  deadline_ = Clock::now() + set_.limits_.close_timeout;
  notify_closed();
}

// Inline (declared so, defined before its callers): every delivery to every subscriber passes
// here, and only the slow path is a call.
inline bool Connection::admit(std::size_t bytes) {
  // During a shutdown the last frames (server_restart) must not cost a client everything
  // queued before them; the shutdown deadline bounds the memory instead.
  const std::size_t queued = outbound_.bytes() + bytes;
  if (queued <= set_.limits_.max_outbound_bytes || set_.stopping_) [[likely]] {
    return true;
  }
  drop_slow_client(queued);
  return false;
}

void Connection::send(SharedFrame frame) {
  if (state_ != State::open) return;  // closing: nothing more goes out after the close frame
  if (!admit(frame->size())) return;
  enqueue(std::move(frame));
}

void Connection::drop_slow_client(std::size_t queued) {
  log::ConnectionScope scope(log_id());  // a delivery, outside this connection's handlers
  ended(EndReason::slow_client);
  CC_LOG_WARN("dropping a slow client: {} bytes queued, limit {} (raise --max-outbound-bytes)",
              queued, set_.limits_.max_outbound_bytes);
  // Reset instead of FIN: a FIN would wait behind the megabytes the client is not reading,
  // keeping them in kernel memory until TCP gives up; a reset frees them now.
  const linger reset{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  set_.metrics_.slow_clients_dropped.add();
  abort("outbound buffer limit reached");
}

void Connection::close(std::uint16_t code, std::string_view reason) { start_close(code, reason); }

void Connection::start_close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  ended(set_.stopping_ ? EndReason::server_shutdown : EndReason::server_closed);
  if (close_code_ == kNoCloseFrame) close_code_ = code;
  enqueue(make_shared_frame(encode_close(code, reason)));
  state_ = State::closing;
  after_flush_ = AfterFlush::shutdown_send;
  deadline_ = Clock::now() + set_.limits_.close_timeout;
  notify_closed();
}

void Connection::enqueue(SharedFrame frame) {
  outbound_.push(std::move(frame));
  schedule_flush();
}

void Connection::schedule_flush() {
  if (!in_flush_list_ && !waiting_writable_) {
    in_flush_list_ = true;
    set_.schedule_flush(shared_from_this());
  }
}

void Connection::flush() {
  if (state_ == State::closed || waiting_writable_) return;
  log::ConnectionScope scope(log_id());
  if (tls_) return flush_tls();
  while (!outbound_.empty()) {
    std::array<iovec, OutboundQueue::kMaxGather> buffers;
    msghdr message{};
    message.msg_iov = buffers.data();
    message.msg_iovlen = outbound_.gather(buffers);
    const ssize_t written = ::sendmsg(fd_, &message, MSG_NOSIGNAL);  // a reset peer: no SIGPIPE
    if (written < 0 && would_block(errno)) return wait_writable();
    if (written < 0) return abort("write failed");
    consume_written(static_cast<std::size_t>(written));
  }
  on_flushed();
}

// TLS: small frames are copied into one record (one encryption, one write); a frame of a
// record's size or more is encrypted straight from its shared buffer.
void Connection::flush_tls() {
  while (!outbound_.empty()) {
    // After a write that would block, OpenSSL needs the very same bytes again.
    const std::size_t want = tls_retry_bytes_
                                 ? tls_retry_bytes_
                                 : std::min(outbound_.bytes(), ConnectionSet::kTlsRecordSize);
    std::array<iovec, OutboundQueue::kMaxGather> buffers;
    OutboundQueue::Cursor cursor = outbound_.front();
    std::size_t count = outbound_.gather(cursor, buffers, want);
    std::span<const char> record(static_cast<const char*>(buffers[0].iov_base), want);
    if (buffers[0].iov_len < want) {  // the front frame holds less than a record: copy
      char* out = set_.tls_plain_.data();
      std::size_t filled = 0;
      for (;;) {
        for (std::size_t i = 0; i < count; ++i) {
          std::memcpy(out + filled, buffers[i].iov_base, buffers[i].iov_len);
          filled += buffers[i].iov_len;
        }
        if (filled == want) break;
        count = outbound_.gather(cursor, buffers, want - filled);
        CABLE_ASSERT(count > 0);  // want <= bytes()
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

bool Connection::add_to_batch(BatchSender& sender) {
  if (state_ == State::closed || waiting_writable_ || tls_ || outbound_.empty()) return false;
  std::array<iovec, BatchSender::kMaxBuffers> buffers;
  sender.add(fd_, std::span<const iovec>(buffers.data(), outbound_.gather(buffers)));
  return true;
}

void Connection::batch_sent(int result) {
  if (state_ == State::closed) return;
  log::ConnectionScope scope(log_id());
  if (result == -EAGAIN || result == -EWOULDBLOCK) return wait_writable();
  if (result == -ECANCELED) return flush();  // the batch did not happen: send it the plain way
  if (result < 0) return abort("write failed");
  consume_written(static_cast<std::size_t>(result));
  // Frames beyond the batch's buffers, or what a short write left: the plain path (which also
  // runs on_flushed() once the queue is empty).
  flush();
}

void Connection::consume_written(std::size_t written) {
  outbound_.consume(written);
  bytes_out_ += written;
  set_.metrics_.bytes_sent.add(written);  // once per write, not per frame
  // Closing with frames still queued: the close timeout counts from the last progress, so a
  // client that is still reading gets everything before our close frame.
  if (written > 0 && (state_ == State::closing || state_ == State::responding)) {
    deadline_ = Clock::now() + set_.limits_.close_timeout;
  }
}

void Connection::wait_writable() {
  waiting_writable_ = true;
  if (!ready_out_) return;
  ready_out_ = false;  // possibly stale: then the write fails again and this waits for real
  asio::post(set_.io_, [self = shared_from_this()] {
    if (self->waiting_writable_) self->on_writable();
  });
}

void Connection::on_writable() {
  waiting_writable_ = false;
  if (state_ == State::closed) return;
  log::ConnectionScope scope(log_id());
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
      ::shutdown(fd_, SHUT_WR);
      after_flush_ = AfterFlush::nothing;
      return;
    }
    case AfterFlush::close_socket:
      return finish_close();
  }
}

void Connection::finish_close() {
  if (state_ == State::closed) return;
  log_access_line();
  state_ = State::closed;
  unlink();
  notify_closed();
  close_descriptor();
}

void Connection::abort(const char* why) {
  if (state_ == State::closed) return;
  CC_LOG_DEBUG("connection aborted: {}", why);
  // What set no cause before aborting: the shutdown deadline, or a failed read or write.
  ended(set_.stopping_ ? EndReason::server_shutdown : EndReason::network_error);
  log_access_line();
  state_ = State::closed;
  outbound_.clear();
  unlink();
  notify_closed();
  close_descriptor();
}

void Connection::notify_closed() {
  if (!handler_) return;
  // Deferred: we may be inside the handler's own call (close() from a command, send() from a
  // delivery loop); the handler learns of the end on a clean stack.
  asio::post(set_.io_, [self = shared_from_this()] {
    log::ConnectionScope scope(self->log_id());
    if (auto handler = std::move(self->handler_)) handler->on_closed();
  });
}

void Connection::log_access_line() {
  if (path_name_ == kNotUpgraded) return;
  const std::string remote = remote_port_ != 0 ? format_peer(remote_ip_, remote_port_) : "unknown";
  log_access(
      AccessRecord{remote, set_.name(path_name_), set_.name(subprotocol_name_),
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened_),
                   bytes_in_, bytes_out_, close_code_, end_});
  path_name_ = kNotUpgraded;  // once
}

std::size_t Connection::buffered_bytes() const {
  return parser_.buffered_bytes() + outbound_.heap_bytes() +
         (handshake_ ? sizeof(Handshake) + handshake_->buffer.capacity() : 0);
}

}  // namespace cablecast::ws