#include "server/broadcast_endpoint.hpp"

#include <openssl/crypto.h>

#include <boost/beast/core/string.hpp>

#include "broadcast/publication.hpp"
#include "core/log.hpp"
#include "server/publications.hpp"

namespace cablecast::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kText = "text/plain; charset=utf-8";

std::string empty_response(unsigned status) { return ws::http_response(status, {}, {}); }

}  // namespace

// Reads the body, then publishes it through the adapter.
class BroadcastEndpoint::Body final : public ws::BodyHandler {
 public:
  explicit Body(BroadcastEndpoint& endpoint) : endpoint_(endpoint) {}

  std::string on_body(std::string_view text) override {
    auto body = broadcast::parse_body(text);
    if (!body) {
      endpoint_.log_refusal("broadcast API: refusing a body of {} bytes (422): {}: {}", text.size(),
                            body.error().message(), log::clip(text));
      return ws::http_response(422, kText, body.error().message() + "\n");
    }
    if (auto published = publish_body(*body, endpoint_.history_, endpoint_.adapter_); !published) {
      // Never a silent loss: the application hears that it must retry.
      endpoint_.log_refusal("broadcast API: the {} pub/sub refused a publication (503): {}",
                            endpoint_.adapter_.name(), published.error().message());
      return ws::http_response(503, kText, "The broker is unavailable, retry later\n",
                               "Retry-After: 1\r\n");
    }
    endpoint_.metrics_.broadcasts.add(metrics::BroadcastSource::api, body->publications.size());
    CC_LOG_DEBUG("broadcast API: {} publication(s){}", body->publications.size(),
                 body->disconnect ? ", a remote disconnect" : "");
    return empty_response(201);
  }

  std::string on_too_large() override {
    endpoint_.log_refusal("broadcast API: refusing a body over {} bytes (413)",
                          endpoint_.options_.max_body_bytes);
    return ws::http_response(413, kText, "Body too large\n");
  }

 private:
  BroadcastEndpoint& endpoint_;
};

template <class... Args>
void BroadcastEndpoint::log_refusal(fmt::format_string<Args...> format, Args&&... args) {
  if (refusals_.allow()) CC_LOG_WARN(format, std::forward<Args>(args)...);
}

bool BroadcastEndpoint::authorized(const ws::Request& request) const {
  std::string_view header = request[http::field::authorization];
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size() ||
      !boost::beast::iequals(header.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view token = header.substr(kScheme.size());
  // Constant time in the token's bytes: a wrong key does not tell how much of it was right.
  return token.size() == options_.key.size() &&
         CRYPTO_memcmp(token.data(), options_.key.data(), token.size()) == 0;
}

ws::Route BroadcastEndpoint::route(const ws::Request& request) {
  if (options_.key.empty()) {
    log_refusal(
        "broadcast API: refusing a request (404): it is off without a key "
        "(--broadcast-key or --secret)");
    return ws::Route{ws::http_response(404, kText, "Page not found"), nullptr, {}};
  }
  if (request.method() != http::verb::post) {
    log_refusal("broadcast API: refusing a {} request (405)",
                log::clip(std::string_view(request.method_string())));
    return ws::Route{ws::http_response(405, kText, "Use POST\n", "Allow: POST\r\n"), nullptr, {}};
  }
  if (!authorized(request)) {
    // The key is never logged, nor what was sent in its place.
    log_refusal("broadcast API: refusing a request {} (401)",
                request.find(http::field::authorization) == request.end()
                    ? "without an Authorization header"
                    : "with a wrong key");
    return ws::Route{
        ws::http_response(401, kText, "Unauthorized\n", "WWW-Authenticate: Bearer\r\n"),
        nullptr,
        {}};
  }
  return ws::Route{{}, nullptr, {}, std::make_unique<Body>(*this), options_.max_body_bytes};
}

}  // namespace cablecast::server
