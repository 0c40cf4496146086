#pragma once
// AnyCable's JWT identification (protocol.md §7.9): a token signed with HMAC (HS256, HS384 or
// HS512) whose `ext` claim is the connection's identifiers as a JSON *string*
// (e.g. "{\"user_id\":42}"), with an optional `exp`.
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "auth/hmac.hpp"

namespace cablecast::auth {

// Why a token was refused. `token_expired` is the one the client must hear about as such
// ({"type":"disconnect","reason":"token_expired",...}); every other one is "unauthorized".
enum class JwtError {
  no_secret = 1,          // the verifier has no secret: refuse everything
  too_large,              // longer than kMaxJwtBytes
  malformed,              // not three base64url segments, or a header or payload that is not
                          // a JSON object, or a claim of the wrong type, or a `crit` header
  unsupported_algorithm,  // `alg` is not HS256, HS384 or HS512 (e.g. "none", "RS256")
  bad_signature,          // the signature is not the HMAC of the token under this secret
  token_expired,          // signed correctly, but `exp` has passed
  not_yet_valid,          // signed correctly, but `nbf` is still ahead
  missing_identifiers,    // signed correctly, but `ext` is not a string holding a JSON object
};

const boost::system::error_category& jwt_category();

inline boost::system::error_code make_error_code(JwtError e) {
  return {static_cast<int>(e), jwt_category()};
}

// The reason of the disconnect message AnyCable sends for a refused token (identity/jwt.go):
// "token_expired" for JwtError::token_expired, "unauthorized" for everything else.
std::string_view jwt_disconnect_reason(boost::system::error_code ec);

// Real tokens hold a few identifiers (a few hundred bytes); the bound is checked before any
// decoding or hashing.
inline constexpr std::size_t kMaxJwtBytes = 8 * 1024;

struct JwtIdentity {
  std::string identifiers_json;            // the `ext` claim exactly as signed (for RPC calls)
  boost::json::object identifiers;         // the same, parsed (for C++ channels)
  std::optional<std::int64_t> expires_at;  // `exp` in Unix seconds, when the token has one
};

// Verifies `token` with `secret` at time `now_unix` (Unix seconds), in the order AnyCable's
// golang-jwt does: structure and `alg` first, then the signature (constant time), then the
// claims (`exp`: expired once now >= exp, RFC 7519 §4.1.4; `nbf`: not valid while now < nbf;
// `iat` ignored), then the identifiers. Only a correctly signed token can be reported expired.
boost::system::result<JwtIdentity> verify_jwt(std::string_view token, std::string_view secret,
                                              std::int64_t now_unix);

// Signs `claims` (a JSON object's text) as {"alg":"HS<bits>","typ":"JWT"}, for tests and the
// demo. `digest` is sha256, sha384 or sha512.
std::string sign_jwt(std::string_view claims_json, std::string_view secret, Digest digest);

}  // namespace cablecast::auth

template <>
struct boost::system::is_error_code_enum<cablecast::auth::JwtError> : std::true_type {};
