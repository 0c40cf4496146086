#include "ws/batch_sender.hpp"

#include <liburing.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/assert.hpp"

namespace cablecast::ws {

struct BatchSender::Ring {
  io_uring ring{};
  bool live = false;
  ~Ring() {
    if (live) io_uring_queue_exit(&ring);
  }
};

struct BatchSender::Slot {
  msghdr header{};
  iovec buffers[kMaxBuffers]{};
};

std::unique_ptr<BatchSender> BatchSender::create(unsigned capacity,
                                                 boost::system::error_code& error) {
  auto ring = std::make_unique<Ring>();
  // Twice as many completion entries as sends, so completions never overflow.
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = capacity * 2;
  if (int rc = io_uring_queue_init_params(capacity, &ring->ring, &params); rc < 0) {
    error.assign(-rc, boost::system::system_category());
    return nullptr;
  }
  ring->live = true;
  error.clear();
  return std::unique_ptr<BatchSender>(new BatchSender(std::move(ring), capacity));
}

BatchSender::BatchSender(std::unique_ptr<Ring> ring, unsigned capacity)
    : ring_(std::move(ring)), capacity_(capacity), slots_(capacity), results_(capacity) {}

BatchSender::~BatchSender() = default;

void BatchSender::add(int fd, std::span<const iovec> buffers) {
  CABLE_ASSERT(!full() && !buffers.empty() && buffers.size() <= kMaxBuffers);
  Slot& slot = slots_[count_];
  std::copy(buffers.begin(), buffers.end(), slot.buffers);
  slot.header = msghdr{};
  slot.header.msg_iov = slot.buffers;
  slot.header.msg_iovlen = buffers.size();
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  CABLE_ASSERT(sqe != nullptr);  // at most capacity_ queued, and the ring has capacity_ entries
  io_uring_prep_sendmsg(sqe, fd, &slot.header, MSG_DONTWAIT | MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, count_);
  results_[count_] = -ECANCELED;
  ++count_;
}

bool BatchSender::submit() {
  if (count_ == 0) return true;
  io_uring& ring = ring_->ring;
  std::size_t submitted = 0;
  bool healthy = true;
  while (submitted < count_) {
    int rc = io_uring_submit(&ring);
    if (rc == -EINTR) continue;
    if (rc <= 0) {
      healthy = false;  // the kernel refused the batch (out of memory...): report and stop
      break;
    }
    submitted += static_cast<std::size_t>(rc);
  }
  // Every submitted send completes during submission or right after it (MSG_DONTWAIT): wait
  // for exactly those.
  for (std::size_t reaped = 0; reaped < submitted;) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(&ring, &cqe);
    if (rc == -EINTR) continue;
    CABLE_ASSERT(rc == 0 && cqe != nullptr);
    const auto index = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
    CABLE_ASSERT(index < count_);
    results_[index] = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    ++reaped;
  }
  return healthy;
}

}  // namespace cablecast::ws
