#include "auth/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "auth/openssl_digest.hpp"
#include "core/assert.hpp"

namespace cablecast::auth {

const EVP_MD* openssl_digest(Digest digest) {
  switch (digest) {
    case Digest::sha1:
      return EVP_sha1();
    case Digest::sha256:
      return EVP_sha256();
    case Digest::sha384:
      return EVP_sha384();
    case Digest::sha512:
      return EVP_sha512();
  }
  CABLE_ASSERT(false && "unknown digest");
  return nullptr;
}

std::size_t digest_size(Digest digest) {
  return static_cast<std::size_t>(EVP_MD_size(openssl_digest(digest)));
}

std::string hmac(Digest digest, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // OpenSSL reads a null key as "no key given" and fails; an empty key (whose data() may be
  // null) must still point somewhere.
  static const unsigned char empty = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&empty) : key.data();
  const auto* result =
      HMAC(openssl_digest(digest), key_bytes, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  // Only an allocation failure inside OpenSSL makes HMAC fail: there is nothing to recover.
  CABLE_ASSERT(result != nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string hmac_hex(Digest digest, std::string_view key, std::string_view data) {
  return to_hex(hmac(digest, key, data));
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return hmac_hex(Digest::sha256, key, data);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += digits[byte >> 4];
    out += digits[byte & 0x0F];
  }
  return out;
}

bool equal_constant_time(std::string_view expected, std::string_view given) {
  if (expected.size() != given.size()) {
    // Spend the same time as a comparison of equal lengths would, so a mismatch in length
    // cannot be told from a mismatch in content. CRYPTO_memcmp is opaque to the optimiser.
    (void)CRYPTO_memcmp(expected.data(), expected.data(), expected.size());
    return false;
  }
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace cablecast::auth
