#include "auth/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <optional>

#include "auth/base64.hpp"
#include "core/assert.hpp"
#include "core/error_category.hpp"

namespace cablecast::auth {
namespace {

const char* describe(JwtError e) {
  switch (e) {
    case JwtError::no_secret:
      return "no secret is configured to verify tokens";
    case JwtError::too_large:
      return "the token is too large";
    case JwtError::malformed:
      return "the token is malformed";
    case JwtError::unsupported_algorithm:
      return "the token's algorithm is not HS256, HS384 or HS512";
    case JwtError::bad_signature:
      return "the token's signature does not match";
    case JwtError::token_expired:
      return "the token has expired";
    case JwtError::not_yet_valid:
      return "the token is not valid yet";
    case JwtError::missing_identifiers:
      return "the token's ext claim is not a JSON object in a string";
  }
  return nullptr;
}

// A base64url segment holding a JSON object, or nothing.
std::optional<boost::json::object> decode_object(std::string_view segment) {
  auto text = decode_base64url(segment);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

std::optional<Digest> hmac_algorithm(std::string_view alg) {
  if (alg == "HS256") return Digest::sha256;
  if (alg == "HS384") return Digest::sha384;
  if (alg == "HS512") return Digest::sha512;
  return std::nullopt;  // "none", RS*/ES*/PS* and anything else
}

// Where the NumericDate claim `name` (RFC 7519 §2: seconds, integer or not) stands against
// `now`: `passed` once now >= date.
enum class Moment { absent, not_a_number, passed, ahead };
Moment compare_with_now(const boost::json::object& claims, std::string_view name,
                        std::int64_t now) {
  const auto* date = claims.if_contains(name);
  if (!date) return Moment::absent;
  if (const auto* i = date->if_int64()) return now >= *i ? Moment::passed : Moment::ahead;
  if (date->if_uint64()) return Moment::ahead;  // beyond INT64_MAX seconds
  if (const auto* d = date->if_double()) {
    return static_cast<double>(now) >= *d ? Moment::passed : Moment::ahead;
  }
  return Moment::not_a_number;
}

std::optional<std::int64_t> whole_seconds(const boost::json::value& date) {
  if (const auto* i = date.if_int64()) return *i;
  if (const auto* d = date.if_double()) {
    // Doubles in this range convert exactly after flooring; outside it there is no int64.
    if (*d >= -9.0e18 && *d <= 9.0e18) return static_cast<std::int64_t>(std::floor(*d));
  }
  return std::nullopt;
}

}  // namespace

const boost::system::error_category& jwt_category() {
  static const core::ErrorCategory<JwtError, describe> category("jwt", "token error");
  return category;
}

std::string_view jwt_disconnect_reason(boost::system::error_code ec) {
  return ec == JwtError::token_expired ? "token_expired" : "unauthorized";
}

// AnyCable (identity/jwt.go) parses with golang-jwt v5 accepting any HMAC method, maps
// ErrTokenExpired to "token_expired" and every other failure to "unauthorized", and requires
// `ext` to be a string (an object is refused there, so it is here).
boost::system::result<JwtIdentity> verify_jwt(std::string_view token, std::string_view secret,
                                              std::int64_t now_unix) {
  if (secret.empty()) return JwtError::no_secret;
  if (token.size() > kMaxJwtBytes) return JwtError::too_large;

  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return JwtError::malformed;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return JwtError::malformed;
  if (token.find('.', second_dot + 1) != std::string_view::npos) return JwtError::malformed;
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::string_view header_segment = token.substr(0, first_dot);
  const std::string_view payload_segment = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_segment = token.substr(second_dot + 1);

  auto header = decode_object(header_segment);
  if (!header) return JwtError::malformed;
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
  if (header->contains("crit")) return JwtError::malformed;
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string()) return JwtError::malformed;
  auto digest = hmac_algorithm(alg->get_string());
  if (!digest) return JwtError::unsupported_algorithm;

  auto signature = decode_base64url(signature_segment);
  if (!signature) return JwtError::malformed;
  if (!equal_constant_time(hmac(*digest, secret, signing_input), *signature)) {
    return JwtError::bad_signature;
  }

  auto claims = decode_object(payload_segment);
  if (!claims) return JwtError::malformed;
  switch (compare_with_now(*claims, "exp", now_unix)) {
    case Moment::passed:
      return JwtError::token_expired;
    case Moment::not_a_number:
      return JwtError::malformed;
    case Moment::absent:
    case Moment::ahead:
      break;
  }
  switch (compare_with_now(*claims, "nbf", now_unix)) {
    case Moment::ahead:
      return JwtError::not_yet_valid;
    case Moment::not_a_number:
      return JwtError::malformed;
    case Moment::absent:
    case Moment::passed:
      break;
  }

  const auto* ext = claims->if_contains("ext");
  if (!ext || !ext->is_string()) return JwtError::missing_identifiers;
  boost::system::error_code ec;
  boost::json::value identifiers = boost::json::parse(ext->get_string(), ec);
  if (ec || !identifiers.is_object()) return JwtError::missing_identifiers;

  JwtIdentity identity;
  identity.identifiers_json = std::string(ext->get_string());
  identity.identifiers = std::move(identifiers.get_object());
  if (const auto* exp = claims->if_contains("exp")) identity.expires_at = whole_seconds(*exp);
  return identity;
}

std::string sign_jwt(std::string_view claims_json, std::string_view secret, Digest digest) {
  std::string_view alg;
  switch (digest) {
    case Digest::sha256:
      alg = "HS256";
      break;
    case Digest::sha384:
      alg = "HS384";
      break;
    case Digest::sha512:
      alg = "HS512";
      break;
    case Digest::sha1:
      CABLE_ASSERT(false && "JWT has no HMAC-SHA1 algorithm");
  }
  std::string header = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
  std::string signing_input = encode_base64url(header) + "." + encode_base64url(claims_json);
  std::string signature = encode_base64url(hmac(digest, secret, signing_input));
  return signing_input + "." + signature;
}

}  // namespace cablecast::auth
