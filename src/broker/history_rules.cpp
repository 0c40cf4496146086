#include "broker/history_rules.hpp"

#include <openssl/rand.h>

#include <vector>

#include "core/assert.hpp"

namespace cablecast::broker {

std::string random_token(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<unsigned char> random(length);
  // RAND_bytes fails only on a broken RNG setup, where reusing an epoch would hand clients
  // messages of another generation: stop instead.
  CABLE_ASSERT(RAND_bytes(random.data(), static_cast<int>(random.size())) == 1);
  std::string token(length, '\0');
  for (std::size_t i = 0; i < length; ++i) token[i] = kAlphabet[random[i] & 63];
  return token;
}

boost::system::error_code check_from(std::string_view epoch, std::uint64_t last_offset,
                                     std::uint64_t first_kept_after, const Position& after) {
  if (after.epoch != epoch) return HistoryError::epoch_mismatch;
  if (after.offset >= last_offset) return {};  // saw everything (or a position not yet reached)
  // Something after the position was broadcast: the next one must still be kept, or the client
  // would get a gap without knowing.
  if (first_kept_after == 0 || first_kept_after > after.offset + 1) {
    return HistoryError::offset_evicted;
  }
  return {};
}

}  // namespace cablecast::broker
