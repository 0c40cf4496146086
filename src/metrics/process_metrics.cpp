#include "metrics/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/system/errc.hpp>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace cablecast::metrics {

namespace {

using boost::system::errc::make_error_code;

std::optional<std::string> read_text(const char* path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// Splits `text` at spaces; returns the `index`th field (0-based) as a number.
std::optional<double> field(std::string_view text, std::size_t index) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < index; ++i) {
    at = text.find(' ', at);
    if (at == std::string_view::npos) return std::nullopt;
    ++at;
  }
  std::size_t end = text.find(' ', at);
  std::string_view token =
      text.substr(at, end == std::string_view::npos ? text.size() - at : end - at);
  double value = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc{} || ptr != token.data() + token.size()) return std::nullopt;
  return value;
}

std::optional<double> boot_time_seconds() {
  auto stat = read_text("/proc/stat");
  if (!stat) return std::nullopt;
  std::istringstream lines(*stat);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("btime ", 0) == 0) return field(line, 1);
  }
  return std::nullopt;
}

std::optional<double> open_fd_count() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

boost::system::result<ProcessMetrics> parse_proc_stat(std::string_view stat,
                                                      double ticks_per_second, double page_size,
                                                      double boot_time) {
  // "pid (comm) state ppid ...": the command name may contain anything, so fields are counted
  // from the last ')'. After it, field 0 is state (the 3rd field of proc(5)), so proc(5)'s
  // field n is index n - 3 here.
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 > stat.size()) {
    return make_error_code(boost::system::errc::bad_message);
  }
  std::string_view rest = stat.substr(close + 2);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  auto utime = field(rest, 14 - 3);
  auto stime = field(rest, 15 - 3);
  auto start = field(rest, 22 - 3);
  auto vsize = field(rest, 23 - 3);
  auto rss = field(rest, 24 - 3);
  if (!utime || !stime || !start || !vsize || !rss || ticks_per_second <= 0) {
    return make_error_code(boost::system::errc::bad_message);
  }
  ProcessMetrics process;
  process.cpu_seconds = (*utime + *stime) / ticks_per_second;
  process.start_time_seconds = boot_time + *start / ticks_per_second;
  process.virtual_bytes = *vsize;
  process.resident_bytes = *rss * page_size;
  return process;
}

boost::system::result<ProcessMetrics> read_process_metrics() {
  auto stat = read_text("/proc/self/stat");
  auto boot = boot_time_seconds();
  auto fds = open_fd_count();
  if (!stat || !boot || !fds)
    return make_error_code(boost::system::errc::no_such_file_or_directory);
  auto process = parse_proc_stat(*stat, static_cast<double>(sysconf(_SC_CLK_TCK)),
                                 static_cast<double>(sysconf(_SC_PAGESIZE)), *boot);
  if (!process) return process.error();
  process->open_fds = *fds;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    process->max_fds = limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                       : static_cast<double>(limit.rlim_cur);
  }
  return process;
}

void write_process_metrics(Exposition& out, const ProcessMetrics& process) {
  out.family("process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", {}, process.cpu_seconds);
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", {}, process.resident_bytes);
  out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  out.sample("process_virtual_memory_bytes", {}, process.virtual_bytes);
  out.family("process_open_fds", "gauge", "Number of open file descriptors.");
  out.sample("process_open_fds", {}, process.open_fds);
  out.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  out.sample("process_max_fds", {}, process.max_fds);
  out.family("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
  out.sample("process_start_time_seconds", {}, process.start_time_seconds);
}

}  // namespace cablecast::metrics
