#pragma once
// HMAC and constant-time comparison, the two primitives every verifier here is built on.
#include <cstddef>
#include <string>
#include <string_view>

namespace cablecast::auth {

// The hash functions Rails' verifiers and JWT's HS* algorithms use.
enum class Digest { sha1, sha256, sha384, sha512 };

// Bytes of a digest's output (20, 32, 48, 64).
std::size_t digest_size(Digest digest);

// HMAC(key, data) as raw bytes.
std::string hmac(Digest digest, std::string_view key, std::string_view data);
// HMAC(key, data) as lowercase hex, as Ruby's OpenSSL::HMAC.hexdigest and Go's "%x" print it.
std::string hmac_hex(Digest digest, std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Lowercase hex of raw bytes.
std::string to_hex(std::string_view bytes);

// True when both strings hold the same bytes. The time taken depends only on the length of
// `expected` (never on where the strings differ, nor on whether the lengths match), so a
// client timing its guesses against a secret learns nothing about its content.
bool equal_constant_time(std::string_view expected, std::string_view given);

}  // namespace cablecast::auth
