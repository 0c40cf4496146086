#pragma once
// The frames a connection has yet to write, oldest first, and how far the oldest one got.
//
// Pure bookkeeping, no socket: the connection hands it frames and the count of bytes each write
// took, and asks it what to write next. The three write paths (sendmsg, the loop's io_uring
// batch, a TLS record) all ask through the one gather().
//
// Memory (an idle connection keeps one): 48 bytes inline and no heap once drained and
// release_memory()'d; the frames are shared pointers, never copies of the bytes.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/assert.hpp"
#include "core/shared_frame.hpp"

namespace cablecast::ws {

class OutboundQueue {
 public:
  // Buffers per gathered write: Linux's writev accepts up to 1024, and 64 is plenty to coalesce
  // a burst (the rest goes in the next write).
  static constexpr std::size_t kMaxGather = 64;
  // A vector that grew past this many frames for a burst gives its memory back once drained;
  // a smaller one keeps it for the next burst until release_memory().
  static constexpr std::size_t kKeepCapacity = 16;

  // A position in the unwritten bytes: front() is the first of them; gather() moves it on.
  struct Cursor {
    std::uint32_t frame;
    std::size_t offset;  // bytes of that frame before the position
  };

  bool empty() const { return head_ == frames_.size(); }
  // Bytes queued and not yet written (what the outbound limit counts).
  std::size_t bytes() const { return bytes_; }
  // Heap this queue holds (for the connection's memory figures).
  std::size_t heap_bytes() const { return frames_.capacity() * sizeof(SharedFrame); }

  // Inline: every delivery of a broadcast to every subscriber goes through it.
  void push(SharedFrame frame) {
    CABLE_ASSERT(frame && frames_.size() < kNoPong);  // indices fit the 32-bit positions
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
  }
  // A pong to be replaced by the answer to a newer ping while none of its bytes is written.
  void push_pong(SharedFrame pong) {
    pong_ = static_cast<std::uint32_t>(frames_.size());
    push(std::move(pong));
  }
  // RFC 6455 5.5.3 lets an endpoint answer only the latest of several pings, so a peer that
  // pings without reading holds one pong here, not one per ping. If a pong from push_pong() is
  // queued and none of its bytes has been written, `pong` takes its place and this returns
  // true; otherwise `pong` is left alone and this returns false (then push_pong() it).
  // The caller must not ask while bytes handed to a write must be offered again unchanged
  // (a TLS write to retry).
  bool replace_pong(SharedFrame& pong);

  Cursor front() const { return {head_, head_offset_}; }
  // Fills `out` with the unwritten bytes from `from` on, oldest first: at most out.size()
  // buffers and `max_bytes` bytes in all (the last buffer cut short), and moves `from` past
  // them. Returns how many buffers it filled (0: nothing left from `from`, or max_bytes 0).
  std::size_t gather(Cursor& from, std::span<iovec> out,
                     std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) const;
  // The same from front(): what a plain gathered write sends.
  std::size_t gather(std::span<iovec> out) const {
    Cursor from = front();
    return gather(from, out);
  }

  // A write took `written` bytes (at most bytes()) from the front: frames written whole are let
  // go of at once; a drained queue forgets its positions and, past kKeepCapacity, its memory.
  void consume(std::size_t written);
  // Drops everything (the connection is gone) and gives the memory back.
  void clear();
  // Gives back a drained queue's memory (an idle connection's, from the loop's sweep).
  void release_memory();

 private:
  static constexpr std::uint32_t kNoPong = std::numeric_limits<std::uint32_t>::max();
  void reset_positions();

  std::vector<SharedFrame> frames_;  // frames_[head_] on: not fully written; before: let go of
  std::size_t bytes_ = 0;
  std::size_t head_offset_ = 0;  // bytes of frames_[head_] already written
  std::uint32_t head_ = 0;
  // Index of the last pong from push_pong() (kNoPong: none since the queue drained). Indices
  // stay valid until the vector is cleared, which resets it.
  std::uint32_t pong_ = kNoPong;
};

}  // namespace cablecast::ws
