// Fuzzes the verifiers of untrusted credentials: JWTs (query parameter, header) and signed stream
// names (subscription identifiers). Each input is tried as sent, and also wrapped in a correct
// signature, so the fuzzer reaches the JSON and claim checks behind the HMAC too. Invariants: no
// crash or sanitizer report; the strict Base64 decoders accept only canonical text (decoding then
// encoding gives the input back); what verifies re-verifies after re-signing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/base64.hpp"
#include "auth/hmac.hpp"
#include "auth/jwt.hpp"
#include "auth/message_verifier.hpp"

namespace {

using namespace cablecast::auth;

constexpr std::string_view kKey = "s3Krit";
constexpr std::int64_t kNow = 1'700'000'000;

void check(bool condition) {
  if (!condition) std::abort();
}

void base64_round_trips(std::string_view text) {
  if (auto bytes = decode_base64url(text)) check(encode_base64url(*bytes) == text);
  if (auto bytes = decode_base64_like_rails(text)) {
    // Rails' rule: URL-safe characters become standard ones, and an unpadded text is padded.
    std::string normalized(text);
    for (char& c : normalized) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    if (!normalized.ends_with('=') && normalized.size() % 4 != 0) {
      normalized.append(4 - normalized.size() % 4, '=');
    }
    check(encode_base64(*bytes) == normalized);
  }
}

void signed_stream_name(std::string_view text) {
  auto name = verify_signed_stream_name(text, kKey, Digest::sha256);
  if (name) {
    auto again = verify_signed_stream_name(sign_stream_name(*name, kKey, Digest::sha256), kKey,
                                           Digest::sha256);
    // A name that verified is a JSON string's UTF-8 and fits the bound once re-signed (or not).
    check(again ? *again == *name : again.error() == SignedStreamError::too_large);
  }
  // The same bytes as a correctly signed payload: reaches Base64 and JSON decoding.
  std::string encoded(text);
  verify_signed_stream_name(encoded + "--" + hmac_hex(Digest::sha256, kKey, encoded), kKey,
                            Digest::sha256);
}

void jwt(std::string_view text) {
  if (verify_jwt(text, kKey, kNow)) check(text.find('.') != std::string_view::npos);
  // The bytes split into header and claims, each base64url'd, under a correct HS256 signature:
  // reaches the header, alg and claim checks.
  const std::size_t half = text.size() / 2;
  std::string input =
      encode_base64url(text.substr(0, half)) + "." + encode_base64url(text.substr(half));
  auto identity =
      verify_jwt(input + "." + encode_base64url(hmac(Digest::sha256, kKey, input)), kKey, kNow);
  if (identity) check(!identity->identifiers_json.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  base64_round_trips(text);
  signed_stream_name(text);
  jwt(text);
  return 0;
}
