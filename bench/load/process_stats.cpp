#include "process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/system/errc.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace cablecast::bench {
namespace {

boost::system::error_code errc(boost::system::errc::errc_t e) {
  return boost::system::errc::make_error_code(e);
}

double timeval_seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

boost::system::result<std::uint64_t> read_rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  if (!status) return errc(boost::system::errc::no_such_process);
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("VmRSS:")) continue;
    std::istringstream fields(line.substr(6));
    std::uint64_t kib = 0;
    if (fields >> kib) return kib;
    break;
  }
  return errc(boost::system::errc::protocol_error);
}

boost::system::result<double> read_cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return errc(boost::system::errc::no_such_process);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Field 2 (comm) is in parentheses and may contain spaces: count fields after the last ')'.
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return errc(boost::system::errc::protocol_error);
  std::istringstream fields(text.substr(paren + 1));
  std::string skip;
  // After comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt(12),
  // then utime(14) stime(15): 11 fields to skip.
  for (int i = 0; i < 11; ++i) fields >> skip;
  std::uint64_t utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return errc(boost::system::errc::protocol_error);
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(utime + stime) / ticks;
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return timeval_seconds(usage.ru_utime) + timeval_seconds(usage.ru_stime);
}

}  // namespace cablecast::bench
