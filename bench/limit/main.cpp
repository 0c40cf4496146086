// cablecast-limit: the smallest fan-out server this machine allows (issue 12), the yardstick
// bench/compare.sh measures Cablecast against. The loop and what it leaves out:
// fan_out_loop.cpp. Here: the settings, the listening socket, the stop signals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "core/assert.hpp"
#include "core/file_limit.hpp"
#include "core/log.hpp"
#include "fan_out_loop.hpp"
#include "options.hpp"

namespace cablecast::limit {
namespace {

// A non-blocking listening socket on host:port (port 0: any free one); its actual port in `port`.
std::optional<int> listen_on(const std::string& host, std::uint16_t& port) {
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &where.sin_addr) != 1) {
    CC_LOG_ERROR("--host {}: an IPv4 address is needed", host);
    return std::nullopt;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CABLE_ASSERT(fd >= 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as Cablecast's acceptor
  socklen_t size = sizeof where;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&where), size) != 0 || ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&where), &size) != 0) {
    CC_LOG_ERROR("cannot listen on {}:{}: {}", host, port, std::strerror(errno));
    ::close(fd);
    return std::nullopt;
  }
  port = ntohs(where.sin_port);
  return fd;
}

int run(const Options& options) {
  core::raise_open_file_limit();  // one descriptor per client
  // SIGTERM and SIGINT arrive through a descriptor in the loop's epoll set.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  CABLE_ASSERT(::sigprocmask(SIG_BLOCK, &stop_signals, nullptr) == 0);
  const int signals = ::signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  CABLE_ASSERT(signals >= 0);
  std::uint16_t port = options.port;
  const auto listener = listen_on(options.host, port);
  if (!listener) return 1;
  CC_LOG_INFO("cablecast-limit listening on {}:{} (one loop, stream \"all{}\")", options.host, port,
              options.stream_id);
  serve(options, *listener, signals);
  ::close(*listener);
  ::close(signals);
  return 0;
}

}  // namespace
}  // namespace cablecast::limit

int main(int argc, char** argv) {
  cablecast::limit::Options options;
  CLI::App app{
      "cablecast-limit: the smallest fan-out server for `cablecast bench broadcast` and "
      "`connect` (bench/README.md)"};
  app.add_option("--host", options.host, "IPv4 address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "TCP port (0: any free one, logged)")
      ->capture_default_str();
  app.add_option("--stream-id", options.stream_id,
                 "BenchmarkChannel id the frames carry (the generator's --stream-id)")
      ->capture_default_str();
  app.add_option("--io-uring", options.io_uring,
                 "Send each loop turn's frames with one io_uring submission (false: one sendmsg "
                 "per connection)")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!cablecast::log::set_level(options.log_level)) {
    std::fprintf(stderr, "--log-level %s: unknown level\n", options.log_level.c_str());
    return 1;
  }
  return cablecast::limit::run(options);
}