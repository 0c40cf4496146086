#include "ready_set.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "client.hpp"
#include "ws/ready_set.hpp"

namespace cablecast::bench {

ReadySet::ReadySet(boost::asio::io_context& io) : io_(io), epoll_(io, ws::create_epoll()) {}

std::optional<std::string> ReadySet::add(int fd, Client* client) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = client;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return std::string(std::strerror(errno));
  }
  return std::nullopt;
}

void ReadySet::start() {
  stopped_ = false;
  wait();
}

void ReadySet::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  epoll_.cancel(ignored);
}

void ReadySet::wait() {
  // The wait re-arms the epoll descriptor in Asio's reactor (one epoll_ctl per batch of
  // events, not per message), and the re-arm re-checks readiness, so nothing is missed.
  epoll_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      if (ec || stopped_) return;
                      harvest();
                    });
}

void ReadySet::harvest() {
  const int n = ::epoll_wait(epoll_.native_handle(), events_.data(), kBatch, 0);
  for (int i = 0; i < n; ++i) {
    auto* client = static_cast<Client*>(events_[i].data.ptr);
    const std::uint32_t events = events_[i].events;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client->on_readable();
    if (events & EPOLLOUT) client->on_writable();
  }
  if (n == kBatch) {
    // More may be ready: let other work on the loop run first, then take the next batch.
    boost::asio::post(io_, [this] {
      if (!stopped_) harvest();
    });
    return;
  }
  wait();
}

}  // namespace cablecast::bench
