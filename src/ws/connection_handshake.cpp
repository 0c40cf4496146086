// The HTTP half of a Connection: the TLS handshake (wss://), the request, its route, and the
// body of a route that takes one; the WebSocket half is in ws/connection.cpp.
#include "ws/connection_handshake.hpp"

#include <sys/socket.h>

#include <boost/beast/http/error.hpp>
#include <cstring>

#include "core/log.hpp"
#include "ws/connection.hpp"
#include "ws/connection_set.hpp"
#include "ws/http_body_reader.hpp"

namespace cablecast::ws {

namespace http = boost::beast::http;
using boost::system::error_code;

void Connection::begin_request() {
  state_ = State::reading_request;
  handshake_ = std::make_unique<Handshake>(set_.limits_.max_request_header);
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
  set_.metrics_.handshakes_rejected.add(metrics::HandshakeRejection::bad_request);
  const bool too_large = ec == http::error::header_limit || ec == http::error::buffer_overflow;
  respond(too_large
              ? http_response(431, "text/plain; charset=utf-8", "Request header fields too large")
              : http_response(400, "text/plain; charset=utf-8", "Bad request"));
}

void Connection::respond(std::string response) {
  state_ = State::responding;
  after_flush_ = AfterFlush::shutdown_send;
  deadline_ = Clock::now() + set_.limits_.close_timeout;
  enqueue(make_shared_frame(std::move(response)));
  handshake_.reset();
}

void Connection::on_request() {
  const Request& request = handshake_->parser.get();
  Route route = set_.router_.route(request, *this);
  if (route.body) return read_body(std::move(route));
  // A plain answer (page, 404, refused upgrade, 401): any body is left unread (and discarded).
  if (!route.handler) return respond(std::move(route.response));
  // An upgrade request carries no body.
  if (!handshake_->parser.is_done()) return reject_request(http::error::unexpected_body);
  enqueue(make_shared_frame(std::move(route.response)));

  state_ = State::open;
  last_read_ = Clock::now();
  handler_ = std::move(route.handler);
  // The access log names the path without its query: tokens (jid, signed streams) live there.
  const std::string_view target(request.target().data(), request.target().size());
  path_name_ = set_.intern(log::clip(target.substr(0, target.find('?')), 100));
  subprotocol_name_ = set_.intern(route.subprotocol);
  // Bytes that arrived behind the request are already frames (clients may send at once).
  std::string leftover(static_cast<const char*>(handshake_->buffer.data().data()),
                       handshake_->buffer.size());
  {
    asio::ip::tcp::endpoint remote;
    socklen_t length = static_cast<socklen_t>(remote.capacity());
    const bool known = ::getpeername(fd_, remote.data(), &length) == 0;
    if (known) remote.resize(length);
    std::string address = known ? remote.address().to_string() : std::string("unknown");
    if (known) {  // kept for the access log: the peer's address is gone once TCP closed
      const auto ip = remote.address();
      remote_ip_ = ip.is_v6()
                       ? ip.to_v6().to_bytes()
                       : asio::ip::make_address_v6(asio::ip::v4_mapped, ip.to_v4()).to_bytes();
      remote_port_ = remote.port();
    }
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

}  // namespace cablecast::ws
