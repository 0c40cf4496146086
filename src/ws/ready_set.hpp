#pragma once
// Readiness of one loop's connections: a private edge-triggered epoll set, itself watched by the
// loop's io_context (one descriptor in Asio's reactor for all of them).
//
// Why not one Asio socket per connection: Asio keeps 168 bytes of reactor state per registered
// descriptor, and every idle connection's pending async_wait is an operation of its own (a
// ~200-byte block from Asio's recycling allocator). At tens of thousands of idle connections
// that was a fifth of the server's memory (docs/architecture.md, "Memory per connection").
// Here a connection is registered once for its whole life (in, out, hang-up, edge-triggered)
// and costs the kernel's epoll item only; Connection keeps the edges it was not waiting for.
#include <sys/epoll.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/result.hpp>
#include <cstdint>

namespace cablecast::ws {

class Connection;

// A new close-on-exec epoll descriptor; throws std::system_error when there is none (out of
// descriptors at start-up). Shared with the load generator's own ready set.
int create_epoll();

class ReadySet {
 public:
  // Throws std::system_error if the epoll set cannot be created (out of descriptors at start).
  explicit ReadySet(boost::asio::io_context& io);
  ReadySet(const ReadySet&) = delete;
  ReadySet& operator=(const ReadySet&) = delete;

  // Watches connected, non-blocking `fd` for `connection` until remove() (or until the
  // descriptor is closed). Its events go to Connection::on_ready on the loop's thread.
  boost::system::result<void> add(int fd, Connection& connection);
  // Stops watching `fd`. Called before the descriptor is closed: an io_uring send in flight can
  // keep the file open, and with it the epoll item, after close().
  void remove(int fd);

  // Waits for events while some connection is watched: like one pending wait per socket did,
  // this keeps io_context::run() going exactly as long as connections are open.
  void resume();
  void pause();

 private:
  void wait();
  void harvest();

  static constexpr int kBatch = 256;  // events per epoll_wait
  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor epoll_;  // owns the epoll descriptor
  bool waiting_ = false;                         // between resume() and pause()
  bool armed_ = false;                           // a wait (or the next harvest) is outstanding
  std::array<epoll_event, kBatch> events_{};
};

}  // namespace cablecast::ws
