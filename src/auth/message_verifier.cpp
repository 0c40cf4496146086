#include "auth/message_verifier.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "auth/base64.hpp"
#include "core/error_category.hpp"

namespace cablecast::auth {
namespace {

const char* describe(SignedStreamError e) {
  switch (e) {
    case SignedStreamError::no_key:
      return "no key is configured to verify signed stream names";
    case SignedStreamError::too_large:
      return "the signed stream name is too large";
    case SignedStreamError::malformed:
      return "the signed stream name is not <base64>--<hex digest>";
    case SignedStreamError::bad_signature:
      return "the signed stream name's signature does not match";
    case SignedStreamError::bad_base64:
      return "the signed stream name's payload is not Base64";
    case SignedStreamError::bad_json:
      return "the signed stream name's payload is not JSON";
    case SignedStreamError::not_a_string:
      return "the signed stream name's payload is not a JSON string";
  }
  return nullptr;
}

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

const boost::system::error_category& signed_stream_category() {
  static const core::ErrorCategory<SignedStreamError, describe> category(
      "signed_stream", "signed stream name error");
  return category;
}

// Rails 7.1+ (activesupport message_verifier.rb): extract_encoded finds the separator at
// `length - digest_length_in_hex - 2`, refuses a blank payload or digest, and compares with
// OpenSSL.fixed_length_secure_compare; then decode tries strict_decode64 and falls back to
// urlsafe_decode64 (messages/codec.rb); JSON.load follows. Rails 6.1 split on the first "--"
// instead, which gives the same answer for every name it could sign (its standard alphabet has
// no "-"). AnyCable's Go verifier (utils/message_verifier.go) splits into exactly two parts and
// decodes the standard alphabet only: everything it accepts is accepted here too.
boost::system::result<std::string> verify_signed_stream_name(std::string_view signed_name,
                                                             std::string_view key, Digest digest) {
  if (key.empty()) return SignedStreamError::no_key;
  if (signed_name.size() > kMaxSignedStreamNameBytes) return SignedStreamError::too_large;
  // Rails refuses invalid UTF-8 outright; any other non-ASCII byte could be neither Base64 nor a
  // hex digest, so refusing every non-ASCII text changes no outcome and keeps indexes in bytes.
  if (!is_ascii(signed_name)) return SignedStreamError::malformed;

  const std::size_t hex_length = 2 * digest_size(digest);
  if (signed_name.size() < hex_length + 2 + 1) return SignedStreamError::malformed;
  const std::size_t separator = signed_name.size() - hex_length - 2;
  if (signed_name.substr(separator, 2) != "--") return SignedStreamError::malformed;
  const std::string_view encoded = signed_name.substr(0, separator);
  const std::string_view given_digest = signed_name.substr(separator + 2);

  if (!equal_constant_time(hmac_hex(digest, key, encoded), given_digest)) {
    return SignedStreamError::bad_signature;
  }

  auto serialized = decode_base64_like_rails(encoded);
  if (!serialized) return SignedStreamError::bad_base64;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*serialized, ec);
  if (ec) return SignedStreamError::bad_json;
  if (!value.is_string()) return SignedStreamError::not_a_string;
  return std::string(value.get_string());
}

std::string sign_stream_name(std::string_view name, std::string_view key, Digest digest) {
  // Ruby's JSON.dump and Boost's serializer agree on strings: raw UTF-8, "/" not escaped.
  std::string encoded = encode_base64(boost::json::serialize(boost::json::string(name)));
  std::string signature = hmac_hex(digest, key, encoded);
  return encoded + "--" + signature;
}

}  // namespace cablecast::auth
