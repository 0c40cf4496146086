#pragma once
// Hands work from any thread to the broker loop in batches: the first push after a drain asks
// the caller to post one flush, which takes everything queued meanwhile. Under load many
// commands then leave in one write, in the order they were pushed (per pushing thread: the order
// of its calls).
#include <mutex>
#include <utility>
#include <vector>

namespace cablecast::pubsub::redis {

template <typename Item>
class HandoffQueue {
 public:
  // Any thread. True when the caller must post a flush (nothing was waiting for one).
  [[nodiscard]] bool push(Item item) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    return !std::exchange(flush_posted_, true);
  }

  // Broker loop: everything queued so far, oldest first.
  std::vector<Item> take() {
    std::lock_guard lock(mutex_);
    flush_posted_ = false;
    return std::exchange(items_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<Item> items_;    // guarded by mutex_
  bool flush_posted_ = false;  // guarded by mutex_
};

}  // namespace cablecast::pubsub::redis
