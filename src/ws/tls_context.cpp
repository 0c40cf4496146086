#include "ws/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/log.hpp"

namespace cablecast::ws {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

// TLS 1.2 suites with forward secrecy and authenticated encryption only (ECDHE + GCM or
// ChaCha20-Poly1305): what every browser and TLS library of the last decade offers. TLS 1.3
// suites are all of that kind already and keep OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The reason of OpenSSL's most recent error, for a log line ("no such file", "key values
// mismatch"...), falling back to the error code's own message.
std::string openssl_reason(const error_code& ec) {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return reason ? reason : ec.message();
}

error_code last_openssl_error() {
  unsigned long code = ERR_peek_last_error();
  return error_code(static_cast<int>(code ? code : 1), boost::asio::error::get_ssl_category());
}

}  // namespace

TlsContext::TlsContext() : context_(ssl::context::tls_server) {}

boost::system::result<std::shared_ptr<TlsContext>> TlsContext::load(const TlsConfig& config) {
  std::shared_ptr<TlsContext> tls(new TlsContext());
  SSL_CTX* ctx = tls->native();
  ERR_clear_error();

  int min_version = 0;
  if (config.min_version == "1.2") {
    min_version = TLS1_2_VERSION;
  } else if (config.min_version == "1.3") {
    min_version = TLS1_3_VERSION;
  } else {
    CC_LOG_ERROR("unsupported TLS minimum version \"{}\" (use 1.2 or 1.3)", config.min_version);
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  tls->min_version_ = config.min_version;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    error_code ec = last_openssl_error();
    CC_LOG_ERROR("cannot configure TLS: {}", openssl_reason(ec));
    return ec;
  }
  // No compression (CRIME), no renegotiation (a client-driven CPU sink); the server's cipher
  // order wins.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // RELEASE_BUFFERS: an idle connection holds no record buffers. PARTIAL_WRITE and
  // ACCEPT_MOVING_WRITE_BUFFER: a write that would block is retried later with the same bytes
  // rebuilt at another address (the connection gathers queued frames into a loop buffer).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read whole socket contents per call instead of a 5-byte header then the record: half the
  // read syscalls. The connection drains OpenSSL's buffer before waiting on the socket again.
  SSL_CTX_set_read_ahead(ctx, 1);

  // An encrypted key must fail with a clear error, not stop the server at a password prompt.
  SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });

  error_code ec;
  tls->context_.use_certificate_chain_file(config.certificate_file, ec);
  if (ec) {
    CC_LOG_ERROR("cannot load the TLS certificate {}: {}", config.certificate_file,
                 openssl_reason(ec));
    return ec;
  }
  tls->context_.use_private_key_file(config.private_key_file, ssl::context::pem, ec);
  // Asio has taken the error off OpenSSL's queue into `ec`.
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    CC_LOG_ERROR("the TLS private key {} does not match the certificate {}",
                 config.private_key_file, config.certificate_file);
    return ec;
  }
  if (ec) {
    CC_LOG_ERROR("cannot load the TLS private key {}: {}", config.private_key_file,
                 openssl_reason(ec));
    return ec;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ec = last_openssl_error();
    CC_LOG_ERROR("the TLS private key {} does not match the certificate {}: {}",
                 config.private_key_file, config.certificate_file, openssl_reason(ec));
    return ec;
  }
  return tls;
}

}  // namespace cablecast::ws
