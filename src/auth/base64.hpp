#pragma once
// Base64 as the verifiers need it: strict, because a lenient decoder would let two different
// texts carry the same signed payload, and exact about which variants each format allows.
#include <optional>
#include <string>
#include <string_view>

namespace cablecast::auth {

// RFC 4648 §4, standard alphabet, with "=" padding (Ruby's Base64.strict_encode64).
std::string encode_base64(std::string_view bytes);
// RFC 4648 §5, URL-safe alphabet, no padding (JWT segments, RFC 7515 §2).
std::string encode_base64url(std::string_view bytes);

// What Rails' MessageVerifier (7.1 and later) accepts: Base64.strict_decode64, and when that
// fails, Base64.urlsafe_decode64, which maps "-" and "_" to "+" and "/" and pads an unpadded
// text. Both end in Ruby's strict decoder, which refuses any character outside the alphabet
// (newlines included), misplaced or missing padding, and unused bits that are not zero.
std::optional<std::string> decode_base64_like_rails(std::string_view text);

// A JWT segment: URL-safe alphabet, no padding, unused bits zero.
std::optional<std::string> decode_base64url(std::string_view text);

}  // namespace cablecast::auth
