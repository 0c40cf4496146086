#include "pubsub/postgres/channel_name.hpp"

#include <openssl/evp.h>

#include "core/assert.hpp"

namespace cablecast::pubsub::postgres {

std::string prefixed_channel(std::string_view prefix, std::string_view broadcasting) {
  if (prefix.empty()) return std::string(broadcasting);
  std::string name;
  name.reserve(prefix.size() + 1 + broadcasting.size());
  name.append(prefix).append(1, ':').append(broadcasting);
  return name;
}

std::string channel_identifier(std::string_view name) {
  if (name.size() <= kMaxIdentifierBytes) return std::string(name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP rather than SHA1(): the one-shot SHA1() is deprecated in OpenSSL 3.
  int ok = EVP_Digest(name.data(), name.size(), digest, &length, EVP_sha1(), nullptr);
  CABLE_ASSERT(ok == 1 && length == 20);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '\0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::string channel_for(std::string_view prefix, std::string_view broadcasting) {
  return channel_identifier(prefixed_channel(prefix, broadcasting));
}

std::string quote_identifier(std::string_view name) {
  std::string quoted;
  quoted.reserve(name.size() + 2);
  quoted.push_back('"');
  for (char c : name) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace cablecast::pubsub::postgres
