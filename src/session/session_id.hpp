#pragma once
// A session's id (AnyCable's `sid`): sent to the RPC application with every call
// (X-AnyCable-Meta-Sid), named by broadcasts that exclude one socket (meta.exclude_socket),
// and, with the extended protocol, the key a client restores its session with. It is a
// capability, so it is random (128 bits from the system's CSPRNG), never a counter. Stored
// inline: 22 characters of base64url, no allocation per connection.
#include <array>
#include <string>
#include <string_view>

namespace cablecast::session {

class SessionId {
 public:
  static constexpr std::size_t kLength = 22;
  // A fresh random id.
  static SessionId generate();
  std::string_view view() const { return {chars_.data(), chars_.size()}; }
  std::string str() const { return std::string(view()); }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  std::array<char, kLength> chars_{};
};

}  // namespace cablecast::session
