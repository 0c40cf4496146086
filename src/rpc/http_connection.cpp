#include "rpc/http_connection.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>

namespace cablecast::rpc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {
// A backend's reply headers are small; this bounds what a broken one can make us buffer.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> make_stream(
    asio::io_context& io, asio::ssl::context* tls) {
  if (tls) {
    return std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>>(
        std::in_place_index<1>, io, *tls);
  }
  return std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>>(
      std::in_place_index<0>, io);
}
}  // namespace

HttpConnection::HttpConnection(asio::io_context& io, asio::ssl::context* tls,
                               const HttpEndpoint& endpoint)
    : endpoint_(endpoint), resolver_(io), stream_(make_stream(io, tls)) {}

HttpConnection::Plain& HttpConnection::lowest() {
  return std::visit([](auto& s) -> Plain& { return beast::get_lowest_layer(s); }, stream_);
}

void HttpConnection::open(OpenHandler done) {
  resolver_.async_resolve(
      endpoint_.host, endpoint_.port,
      [self = shared_from_this(), done = std::move(done)](
          error_code ec, asio::ip::tcp::resolver::results_type results) mutable {
        if (!ec && self->closed_) ec = asio::error::operation_aborted;
        if (ec) return done(ec);
        self->lowest().async_connect(
            results,
            [self, done = std::move(done)](error_code ec2, const asio::ip::tcp::endpoint&) mutable {
              if (!ec2 && self->closed_) ec2 = asio::error::operation_aborted;
              if (ec2) return done(ec2);
              error_code ignored;
              self->lowest().socket().set_option(asio::ip::tcp::no_delay(true), ignored);
              self->handshake(std::move(done));
            });
      });
}

void HttpConnection::handshake(OpenHandler done) {
  auto* tls = std::get_if<Tls>(&stream_);
  if (!tls) return done({});
  const std::string& host = endpoint_.host;
  error_code not_ip;
  asio::ip::make_address(host, not_ip);
  // SNI carries names only (RFC 6066); certificates for IP addresses are matched without it.
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (not_ip && !SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                          TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()))) {
    return done(error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
  }
  tls->set_verify_mode(asio::ssl::verify_peer);
  tls->set_verify_callback(asio::ssl::host_name_verification(host));
  tls->async_handshake(asio::ssl::stream_base::client,
                       [self = shared_from_this(), done = std::move(done)](error_code ec) mutable {
                         if (!ec && self->closed_) ec = asio::error::operation_aborted;
                         done(ec);
                       });
}

void HttpConnection::exchange(Request request, std::size_t body_limit, ExchangeHandler done) {
  request_ = std::move(request);
  parser_.emplace();
  parser_->body_limit(body_limit);
  parser_->header_limit(kHeaderLimit);
  std::visit(
      [&](auto& stream) {
        beast::http::async_write(stream, request_,
                                 [self = shared_from_this(), done = std::move(done)](
                                     error_code ec, std::size_t) mutable {
                                   if (!ec && self->closed_) ec = asio::error::operation_aborted;
                                   if (ec) return done(ec, {});
                                   self->read_response(std::move(done));
                                 });
      },
      stream_);
}

void HttpConnection::read_response(ExchangeHandler done) {
  std::visit(
      [&](auto& stream) {
        beast::http::async_read(stream, buffer_, *parser_,
                                [self = shared_from_this(), done = std::move(done)](
                                    error_code ec, std::size_t) mutable {
                                  if (!ec && self->closed_) ec = asio::error::operation_aborted;
                                  if (ec) return done(ec, {});
                                  ++self->exchanges_;
                                  Response response = self->parser_->release();
                                  self->parser_.reset();
                                  done({}, std::move(response));
                                });
      },
      stream_);
}

bool HttpConnection::reusable() {
  if (closed_ || buffer_.size() != 0 || !lowest().socket().is_open()) return false;
  // MSG_PEEK: an idle connection must have nothing to read. 0 is the peer's FIN (its keep-alive
  // timeout closed it); bytes would be unasked-for data (or a TLS close_notify): unusable both.
  char byte = 0;
  int fd = lowest().socket().native_handle();
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void HttpConnection::close() {
  if (closed_) return;
  closed_ = true;
  resolver_.cancel();
  lowest().close();
}

}  // namespace cablecast::rpc::http
