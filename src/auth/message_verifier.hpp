#pragma once
// Signed stream names: Rails' ActiveSupport::MessageVerifier with `serializer: JSON` and no
// purpose or expiry, the format of Turbo's `signed_stream_name` and AnyCable's `$pubsub`
// channel (protocol.md §7.7, §8.4):
//
//   signed = base64(JSON(name)) + "--" + hex(HMAC(digest, key, base64(JSON(name))))
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "auth/hmac.hpp"

namespace cablecast::auth {

// Why a signed stream name was refused. Every one means "reject the subscription"; they are
// told apart for logs and tests.
enum class SignedStreamError {
  no_key = 1,     // the verifier has no key: refuse everything rather than accept forgeries
  too_large,      // longer than kMaxSignedStreamNameBytes
  malformed,      // not "<base64>--<hex digest>" (empty, non-ASCII, digest of the wrong length)
  bad_signature,  // the digest is not the HMAC of the payload under this key and digest
  bad_base64,     // signed correctly, but the payload is not Base64 (a signer bug)
  bad_json,       // signed correctly, but the payload is not JSON
  not_a_string,   // signed correctly, but the JSON value is not a string
};

const boost::system::error_category& signed_stream_category();

inline boost::system::error_code make_error_code(SignedStreamError e) {
  return {static_cast<int>(e), signed_stream_category()};
}

// A Turbo stream name of several GlobalIDs signs to a few hundred bytes; anything far larger is
// refused before any hashing.
inline constexpr std::size_t kMaxSignedStreamNameBytes = 8 * 1024;

// The stream name inside `signed_name`, verified as Rails 7.1+ verifies it: the digest is the
// last 2 × digest_size characters, preceded by "--" (the split is counted from the end, so a
// URL-safe payload that itself contains "--" still verifies); the digest is compared in
// constant time, byte for byte (upper-case hex fails, as in Rails); the payload may use the
// standard or the URL-safe Base64 alphabet; the JSON must be a string.
boost::system::result<std::string> verify_signed_stream_name(std::string_view signed_name,
                                                             std::string_view key, Digest digest);

// Signs `name` as Rails' MessageVerifier#generate does (strict Base64 of JSON.dump(name)), for
// tests and the demo. Byte-identical to Ruby's output for UTF-8 names.
std::string sign_stream_name(std::string_view name, std::string_view key, Digest digest);

}  // namespace cablecast::auth

template <>
struct boost::system::is_error_code_enum<cablecast::auth::SignedStreamError> : std::true_type {};
