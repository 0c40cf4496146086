#include "session/stream_positions.hpp"

#include <algorithm>

namespace cablecast::session {

bool StreamPositions::advance(std::string_view stream, std::string_view epoch,
                              std::uint64_t offset) {
  auto it =
      std::find_if(sent_.begin(), sent_.end(), [&](const Sent& s) { return s.stream == stream; });
  if (it == sent_.end()) {
    sent_.push_back(Sent{std::string(stream), std::string(epoch), offset});
    return true;
  }
  if (it->epoch == epoch) {
    if (offset <= it->offset) return false;
  } else {
    it->epoch = epoch;  // a new generation of the stream's numbering
  }
  it->offset = offset;
  return true;
}

bool StreamPositions::admit_live(std::string_view stream, std::string_view epoch,
                                 std::uint64_t offset, const SharedFrame& frame) {
  if (holding()) {
    held_.push_back(Held{frame, std::string(stream), std::string(epoch), offset});
    return false;
  }
  return advance(stream, epoch, offset);
}

bool StreamPositions::admit_history(std::string_view stream, std::string_view epoch,
                                    std::uint64_t offset) {
  return advance(stream, epoch, offset);
}

std::vector<SharedFrame> StreamPositions::release() {
  if (holds_ > 0) --holds_;
  std::vector<SharedFrame> out;
  if (holds_ > 0 && !overflowing()) return out;
  holds_ = 0;
  auto held = std::move(held_);
  held_.clear();
  out.reserve(held.size());
  for (auto& h : held) {
    if (advance(h.stream, h.epoch, h.offset)) out.push_back(std::move(h.frame));
  }
  return out;
}

}  // namespace cablecast::session
