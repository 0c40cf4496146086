#pragma once
// One connection's TLS session, driven over its own non-blocking socket (OpenSSL reads and
// writes the file descriptor itself). It never blocks: every call says whether it finished or
// what the socket must become (readable, writable) before the same call is tried again.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace cablecast::ws {

class TlsStream {
 public:
  enum class Status : std::uint8_t {
    done,        // `bytes` were read or written (handshake: finished)
    want_read,   // try again once the socket is readable
    want_write,  // try again once the socket is writable
    closed,      // the peer ended the connection (close_notify, EOF or reset)
    failed,      // protocol error; error_text() says why
  };
  struct Outcome {
    Status status;
    std::size_t bytes = 0;
  };

  // A server-side session on `fd`; nullptr if OpenSSL cannot allocate one.
  static std::unique_ptr<TlsStream> accept(SSL_CTX* context, int fd);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Outcome handshake();
  Outcome read(std::span<char> into);
  // After want_read/want_write, call again with the same bytes (they may live elsewhere).
  Outcome write(std::span<const char> bytes);
  // Sends close_notify if the socket takes it now; a TCP FIN follows from the caller.
  void send_close_notify();

  // OpenSSL holds bytes it already took from the socket (read-ahead): read them before waiting
  // for the socket, which may never become readable again for them.
  bool has_buffered_input() const;
  // The failed handshake was a plain HTTP request sent to the TLS port.
  bool got_plain_http() const;
  // Why the last call failed ("wrong version number", "no shared cipher"...).
  std::string error_text() const;
  // The negotiated protocol ("TLSv1.3").
  const char* version() const;

 private:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
  Outcome classify(int result);

  SSL* ssl_;
  unsigned long error_ = 0;  // OpenSSL error code of the last failure
  int errno_ = 0;            // system error of the last failure, if that was the cause
};

}  // namespace cablecast::ws
