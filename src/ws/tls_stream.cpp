#include "ws/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

namespace cablecast::ws {

std::unique_ptr<TlsStream> TlsStream::accept(SSL_CTX* context, int fd) {
  SSL* ssl = SSL_new(context);
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsStream>(new TlsStream(ssl));
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

// OpenSSL's error queue is per thread and sticky: each call starts with it empty, so that
// SSL_get_error() and the reason we log describe this call only.
TlsStream::Outcome TlsStream::handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  return result == 1 ? Outcome{Status::done} : classify(result);
}

TlsStream::Outcome TlsStream::read(std::span<char> into) {
  ERR_clear_error();
  std::size_t n = 0;
  int result = SSL_read_ex(ssl_, into.data(), into.size(), &n);
  return result == 1 ? Outcome{Status::done, n} : classify(result);
}

TlsStream::Outcome TlsStream::write(std::span<const char> bytes) {
  ERR_clear_error();
  std::size_t n = 0;
  int result = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
  return result == 1 ? Outcome{Status::done, n} : classify(result);
}

void TlsStream::send_close_notify() {
  ERR_clear_error();
  // Non-blocking: if the socket is full the alert is skipped; the TCP FIN still ends the
  // stream, which clients accept from servers (HTTP/1.1 over TLS does the same).
  SSL_shutdown(ssl_);
}

bool TlsStream::has_buffered_input() const { return SSL_has_pending(ssl_) == 1; }

bool TlsStream::got_plain_http() const {
  return ERR_GET_LIB(error_) == ERR_LIB_SSL && ERR_GET_REASON(error_) == SSL_R_HTTP_REQUEST;
}

std::string TlsStream::error_text() const {
  if (error_ != 0) {
    const char* reason = ERR_reason_error_string(error_);
    return reason ? reason : "TLS error " + std::to_string(error_);
  }
  if (errno_ != 0) return std::strerror(errno_);
  return "connection closed";
}

const char* TlsStream::version() const { return SSL_get_version(ssl_); }

TlsStream::Outcome TlsStream::classify(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return {Status::want_read};
    case SSL_ERROR_WANT_WRITE:
      return {Status::want_write};
    case SSL_ERROR_ZERO_RETURN:
      return {Status::closed};
    case SSL_ERROR_SYSCALL:
      // The socket itself failed; no error code: EOF without close_notify.
      error_ = ERR_peek_last_error();
      errno_ = errno;
      if (error_ == 0 && (errno_ == 0 || errno_ == ECONNRESET || errno_ == EPIPE)) {
        return {Status::closed};
      }
      return {Status::failed};
    default:
      error_ = ERR_peek_last_error();
      errno_ = 0;
      // OpenSSL 3 reports a TCP EOF without close_notify as this error: a peer that left.
      if (ERR_GET_REASON(error_) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return {Status::closed};
      return {Status::failed};
  }
}

}  // namespace cablecast::ws
