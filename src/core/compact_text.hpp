#pragma once
// An immutable text in one heap block, 8 bytes inline: the block holds the size and the bytes,
// the object only a pointer (null: empty). For text that every connection keeps for its whole
// life and never changes (a session's identifiers): a std::string is 32 bytes inline, which
// pushed the session into the next malloc size class (issue 12, 1 KiB per connection).
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string_view>

#include "core/assert.hpp"

namespace cablecast::core {

class CompactText {
 public:
  CompactText() = default;
  explicit CompactText(std::string_view text) {
    if (text.empty()) return;
    CABLE_ASSERT(text.size() <= std::numeric_limits<std::uint32_t>::max());
    const auto size = static_cast<std::uint32_t>(text.size());
    block_.reset(new char[sizeof(size) + text.size()]);
    std::memcpy(block_.get(), &size, sizeof(size));
    std::memcpy(block_.get() + sizeof(size), text.data(), text.size());
  }

  bool empty() const { return !block_; }
  std::string_view view() const {
    if (!block_) return {};
    std::uint32_t size = 0;
    std::memcpy(&size, block_.get(), sizeof(size));
    return {block_.get() + sizeof(size), size};
  }

 private:
  std::unique_ptr<char[]> block_;
};

}  // namespace cablecast::core
