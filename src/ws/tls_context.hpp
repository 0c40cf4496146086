#pragma once
// The server's TLS configuration, loaded once at start and shared by every connection (each
// connection's SSL object keeps a reference to it, so a reload could swap it safely).
//
// Why not asio::ssl::stream: it keeps two 17 KiB buffers per connection for the whole life of
// the connection; an idle connection here must cost a few KiB. A connection drives OpenSSL on
// its own non-blocking socket instead (ws::TlsStream), and OpenSSL releases its record buffers
// while the connection is idle (SSL_MODE_RELEASE_BUFFERS).
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <memory>
#include <string>

namespace cablecast::ws {

struct TlsConfig {
  std::string certificate_file;  // PEM: the certificate, then its intermediates (a chain file)
  std::string private_key_file;  // PEM, unencrypted
  // "1.2" (default: TLS 1.2 with forward-secret AEAD ciphers only, and TLS 1.3) or "1.3".
  std::string min_version = "1.2";
};

class TlsContext {
 public:
  // Reads the certificate chain and key and checks that they match. Errors are logged with the
  // file and OpenSSL's reason, and returned.
  static boost::system::result<std::shared_ptr<TlsContext>> load(const TlsConfig& config);

  SSL_CTX* native() const { return context_.native_handle(); }
  const std::string& min_version() const { return min_version_; }

 private:
  TlsContext();
  mutable boost::asio::ssl::context context_;
  std::string min_version_;
};

}  // namespace cablecast::ws
