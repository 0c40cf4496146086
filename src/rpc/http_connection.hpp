#pragma once
// One keep-alive HTTP/1.1 connection to the RPC backend, plain or TLS, carrying one request at a
// time. The backend's pool owns these and touches them only on its own thread.
//
// Beast does the HTTP (serializer, parser with size limits) and Asio/OpenSSL the socket and TLS;
// this class only chains open -> (write -> read)* and tells whether an idle connection is still
// usable.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "rpc/http_url.hpp"

namespace cablecast::rpc::http {

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using OpenHandler = std::function<void(boost::system::error_code)>;
  using ExchangeHandler = std::function<void(boost::system::error_code, Response)>;

  // `tls` is null for http://. The endpoint must outlive the connection.
  HttpConnection(boost::asio::io_context& io, boost::asio::ssl::context* tls,
                 const HttpEndpoint& endpoint);

  // Resolves, connects and (https) does the TLS handshake, verifying the certificate's name.
  void open(OpenHandler done);
  // Writes `request` and reads one response whose body is at most `body_limit` bytes.
  void exchange(Request request, std::size_t body_limit, ExchangeHandler done);

  // For an idle connection from the pool: false when the peer has closed it or sent bytes nobody
  // asked for (then it must be closed, not used). Checked without blocking.
  bool reusable();
  // Whether a response already came over this connection: a failure on a reused connection
  // before any reply usually means the server closed it while idle (keep-alive timeout).
  bool reused() const { return exchanges_ > 0; }
  // Cancels what is pending (its handler gets operation_aborted) and closes the socket.
  void close();

 private:
  using Plain = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  Plain& lowest();
  void handshake(OpenHandler done);
  void read_response(ExchangeHandler done);

  const HttpEndpoint& endpoint_;
  boost::asio::ip::tcp::resolver resolver_;
  std::variant<Plain, Tls> stream_;
  boost::beast::flat_buffer buffer_;
  Request request_;  // kept alive while it is written
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  unsigned exchanges_ = 0;
  bool closed_ = false;
};

}  // namespace cablecast::rpc::http
