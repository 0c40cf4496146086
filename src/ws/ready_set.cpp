#include "ws/ready_set.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <system_error>

#include "core/log.hpp"
#include "ws/connection.hpp"

namespace cablecast::ws {

int create_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

ReadySet::ReadySet(boost::asio::io_context& io) : io_(io), epoll_(io, create_epoll()) {}

boost::system::result<void> ReadySet::add(int fd, Connection& connection) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = &connection;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return boost::system::error_code(errno, boost::system::system_category());
  }
  return {};
}

void ReadySet::remove(int fd) {
  // Fails only for a descriptor that was never added (add() failed): nothing to undo then.
  ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
}

void ReadySet::resume() {
  waiting_ = true;
  if (!armed_) wait();
}

void ReadySet::pause() {
  if (!waiting_) return;
  waiting_ = false;
  boost::system::error_code ignored;
  epoll_.cancel(ignored);
}

void ReadySet::wait() {
  // The wait re-arms the epoll descriptor in Asio's reactor (one epoll_ctl per batch of
  // events, not per message), and the re-arm re-checks readiness, so nothing is missed.
  armed_ = true;
  epoll_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code) {
                      armed_ = false;
                      // Cancelled by pause(), or resumed since: a harvest that finds nothing
                      // costs one epoll_wait and arms the next wait.
                      if (waiting_) harvest();
                    });
}

void ReadySet::harvest() {
  const int n = ::epoll_wait(epoll_.native_handle(), events_.data(), kBatch, 0);
  if (n < 0 && errno != EINTR) {
    CC_LOG_ERROR("epoll_wait failed: {}", std::system_category().message(errno));
  }
  // A connection closed by an earlier event of this batch is still alive (Connection releases
  // itself through a posted handler) and ignores the rest of its events.
  for (int i = 0; i < n; ++i) {
    static_cast<Connection*>(events_[i].data.ptr)->on_ready(events_[i].events);
  }
  if (!waiting_) return;
  if (n == kBatch) {
    // More may be ready: let other work on the loop run first, then take the next batch.
    armed_ = true;
    boost::asio::post(io_, [this] {
      armed_ = false;
      if (waiting_) harvest();
    });
    return;
  }
  wait();
}

}  // namespace cablecast::ws
