#include "session/session_id.hpp"

#include <openssl/rand.h>

#include "core/assert.hpp"

namespace cablecast::session {

SessionId SessionId::generate() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, kLength> random{};
  // 22 characters of 6 bits each = 132 bits; RAND_bytes fails only on a broken RNG setup,
  // where handing out guessable ids would be worse than stopping.
  CABLE_ASSERT(RAND_bytes(random.data(), static_cast<int>(random.size())) == 1);
  SessionId id;
  for (std::size_t i = 0; i < kLength; ++i) id.chars_[i] = kAlphabet[random[i] & 63];
  return id;
}

}  // namespace cablecast::session
