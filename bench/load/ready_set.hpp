#pragma once
// Readiness of one worker's connected clients: a private edge-triggered epoll set, itself
// watched by the worker's io_context. Each client is registered once for its whole life
// (in, out, hang-up), so receiving a message costs one recv() and a share of one epoll_wait(),
// instead of Asio's recv() plus an epoll_ctl() re-arm per message (see client.hpp).
#include <sys/epoll.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <optional>
#include <string>

namespace cablecast::bench {

class Client;

class ReadySet {
 public:
  // Throws std::system_error if the epoll set cannot be created (out of descriptors).
  explicit ReadySet(boost::asio::io_context& io);
  ReadySet(const ReadySet&) = delete;
  ReadySet& operator=(const ReadySet&) = delete;

  // Watches connected, non-blocking `fd` for `client` until the descriptor is closed.
  std::optional<std::string> add(int fd, Client* client);
  // Starts delivering readiness on the io_context's thread.
  void start();
  // Stops watching (before the clients go away).
  void stop();

 private:
  void wait();
  void harvest();

  static constexpr int kBatch = 512;  // events per epoll_wait
  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor epoll_;  // owns the epoll descriptor
  std::array<epoll_event, kBatch> events_{};
  bool stopped_ = false;
};

}  // namespace cablecast::bench
