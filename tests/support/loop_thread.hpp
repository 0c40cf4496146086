#pragma once
// An event loop of a test's own on a thread of its own, as a server's broker loop is: what the
// Redis tests' "nodes" derive from, then add the component under test, constructed on `io`.
//
//   struct CacheNode : testing::LoopThread {
//     RedisSessionCache cache{io, options};
//     ~CacheNode() { cache.stop(); join(); }  // stop, then join before `cache` is destroyed
//   };
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace cablecast::testing {

struct LoopThread {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};

  LoopThread() = default;
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;
  // The loop runs what is queued, then its thread ends. A derived node calls it in its own
  // destructor, after stopping its component and before that member is destroyed, so that
  // nothing on the loop outlives what it refers to.
  void join() {
    work.reset();
    if (thread.joinable()) thread.join();
  }
  ~LoopThread() { join(); }
};

}  // namespace cablecast::testing
