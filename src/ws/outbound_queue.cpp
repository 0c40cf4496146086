#include "ws/outbound_queue.hpp"

#include <algorithm>

namespace cablecast::ws {

bool OutboundQueue::replace_pong(SharedFrame& pong) {
  if (pong_ == kNoPong) return false;
  const bool untouched = pong_ > head_ || (pong_ == head_ && head_offset_ == 0);
  if (!untouched) return false;
  SharedFrame& queued = frames_[pong_];
  CABLE_ASSERT(static_cast<unsigned char>((*queued)[0]) == 0x8A);  // FIN + pong
  bytes_ = bytes_ - queued->size() + pong->size();
  queued = std::move(pong);
  return true;
}

std::size_t OutboundQueue::gather(Cursor& from, std::span<iovec> out, std::size_t max_bytes) const {
  std::size_t count = 0;
  while (count < out.size() && max_bytes > 0 && from.frame < frames_.size()) {
    const std::string& bytes = *frames_[from.frame];
    const std::size_t take = std::min(bytes.size() - from.offset, max_bytes);
    // iovec's pointer is not const, but writes only read through it.
    out[count++] = iovec{const_cast<char*>(bytes.data() + from.offset), take};
    max_bytes -= take;
    if (from.offset + take == bytes.size()) {
      ++from.frame;
      from.offset = 0;
    } else {
      from.offset += take;
    }
  }
  return count;
}

void OutboundQueue::consume(std::size_t written) {
  CABLE_ASSERT(written <= bytes_);
  bytes_ -= written;
  while (written > 0) {
    const std::size_t left = frames_[head_]->size() - head_offset_;
    if (written < left) {
      head_offset_ += written;
      return;
    }
    written -= left;
    frames_[head_++].reset();  // the last connection to write a frame frees it now
    head_offset_ = 0;
  }
  if (!empty()) return;
  CABLE_ASSERT(bytes_ == 0);
  frames_.clear();
  reset_positions();
  if (frames_.capacity() > kKeepCapacity) release_memory();
}

void OutboundQueue::clear() {
  frames_.clear();
  bytes_ = 0;
  reset_positions();
  release_memory();
}

void OutboundQueue::release_memory() {
  if (frames_.empty() && frames_.capacity() != 0) std::vector<SharedFrame>().swap(frames_);
}

void OutboundQueue::reset_positions() {
  head_ = 0;
  head_offset_ = 0;
  pong_ = kNoPong;
}

}  // namespace cablecast::ws
