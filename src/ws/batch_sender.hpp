#pragma once
// The sends of one loop turn, to many sockets, in one system call (io_uring).
//
// Why: on the benchmark VM a system call costs ~1 us and a broadcast means one send per
// subscriber. Measured with a standalone test (150-byte frames to 1,000 loopback sockets, a
// reader on the other core): 6.2-6.7 us of the sender's CPU per send() against 3.5-3.7 us per
// send when all of a round go in one io_uring submission (docs/architecture.md).
//
// Use: the loop's flush add()s one gathered send per connection, submit()s them together, then
// reads each result. Every send carries MSG_DONTWAIT (and the sockets are non-blocking), so the
// kernel never parks one waiting for room: a full socket comes back at once as -EAGAIN, and
// submit() returns with every result in hand. Nothing stays in flight after submit(), so the
// buffers only need to live until then.
#include <sys/uio.h>

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace cablecast::ws {

class BatchSender {
 public:
  // Buffers per send; a connection with more queued sends the rest by the plain path.
  static constexpr std::size_t kMaxBuffers = 8;

  // Null, with the reason in `error`, where io_uring is unavailable (kernels before 5.6,
  // container seccomp profiles that block it, kernel.io_uring_disabled).
  static std::unique_ptr<BatchSender> create(unsigned capacity, boost::system::error_code& error);
  ~BatchSender();
  BatchSender(const BatchSender&) = delete;
  BatchSender& operator=(const BatchSender&) = delete;

  std::size_t size() const { return count_; }
  bool full() const { return count_ == capacity_; }

  // Queues a send of `buffers` (1 to kMaxBuffers of them, copied) on socket `fd`. Not full().
  void add(int fd, std::span<const iovec> buffers);
  // Sends everything queued; afterwards result(i) is the i-th add()'s outcome: bytes written
  // or -errno. Returns false if io_uring itself failed: the results then say -ECANCELED for
  // sends that did not happen, and the caller should stop using this sender.
  bool submit();
  int result(std::size_t i) const { return results_[i]; }
  // Forgets the last batch's sends and results.
  void clear() { count_ = 0; }

 private:
  struct Ring;
  struct Slot;
  BatchSender(std::unique_ptr<Ring> ring, unsigned capacity);

  std::unique_ptr<Ring> ring_;
  unsigned capacity_;
  std::size_t count_ = 0;
  std::vector<Slot> slots_;  // message headers and buffer lists the kernel reads during submit()
  std::vector<int> results_;
};

}  // namespace cablecast::ws
