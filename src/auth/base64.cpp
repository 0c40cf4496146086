#include "auth/base64.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "core/assert.hpp"

namespace cablecast::auth {
namespace {

// The decoder is ours, not OpenSSL's EVP_DecodeBlock: that one skips surrounding whitespace,
// accepts non-zero unused bits and counts padding into the decoded length, each of which would
// make us accept texts Ruby refuses.
enum class Alphabet { standard, url_safe };

constexpr std::int8_t kInvalid = -1;

constexpr std::array<std::int8_t, 256> make_table(Alphabet alphabet) {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  constexpr std::string_view common =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (std::size_t i = 0; i < common.size(); ++i) {
    table[static_cast<unsigned char>(common[i])] = static_cast<std::int8_t>(i);
  }
  table[alphabet == Alphabet::standard ? '+' : '-'] = 62;
  table[alphabet == Alphabet::standard ? '/' : '_'] = 63;
  return table;
}

constexpr auto kStandard = make_table(Alphabet::standard);
constexpr auto kUrlSafe = make_table(Alphabet::url_safe);

// Decodes `text` (no padding characters in it) whose length modulo 4 is 0, 2 or 3. Refuses a
// character outside the alphabet and a last character with unused bits set, so every byte
// string has exactly one accepted encoding.
std::optional<std::string> decode_unpadded(std::string_view text,
                                           const std::array<std::int8_t, 256>& table) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const std::int8_t value = table[static_cast<unsigned char>(c)];
    if (value == kInvalid) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xFF);
    }
  }
  // The 2 or 4 bits left over after the last full byte must be zero (Ruby: "invalid base64").
  if ((bits & ((1u << bit_count) - 1)) != 0) return std::nullopt;
  return out;
}

// Ruby's strict_decode64: length a multiple of 4, at most two "=" and only at the very end.
std::optional<std::string> decode_strict_padded(std::string_view text,
                                                const std::array<std::int8_t, 256>& table) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  std::string_view body = text.substr(0, text.size() - padding);
  // "====", "A===": after removing the legal padding nothing else may be "=".
  if (body.find('=') != std::string_view::npos) return std::nullopt;
  return decode_unpadded(body, table);
}

}  // namespace

std::string encode_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  CABLE_ASSERT(written >= 0 && static_cast<std::size_t>(written) == out.size());
  return out;
}

std::string encode_base64url(std::string_view bytes) {
  std::string out = encode_base64(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> decode_base64_like_rails(std::string_view text) {
  if (auto strict = decode_strict_padded(text, kStandard)) return strict;
  // Ruby's urlsafe_decode64 translates "-_" to "+/" (so "+" and "/" stay accepted too), then
  // pads to a multiple of 4 unless the text already ends in "=", then decodes strictly.
  std::string translated(text);
  for (char& c : translated) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (!translated.ends_with('=') && translated.size() % 4 != 0) {
    translated.append(4 - translated.size() % 4, '=');
  }
  return decode_strict_padded(translated, kStandard);
}

std::optional<std::string> decode_base64url(std::string_view text) {
  return decode_unpadded(text, kUrlSafe);
}

}  // namespace cablecast::auth
