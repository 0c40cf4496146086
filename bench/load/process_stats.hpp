#pragma once
// What the benchmark reads about processes: the server's resident memory and CPU time from
// /proc (the server is another process, maybe not ours), and this process's own CPU time.
#include <boost/system/result.hpp>
#include <cstdint>

namespace cablecast::bench {

// VmRSS of `pid` in KiB (from /proc/PID/status).
boost::system::result<std::uint64_t> read_rss_kib(int pid);

// utime + stime of every thread of `pid`, in seconds (from /proc/PID/stat).
boost::system::result<double> read_cpu_seconds(int pid);

// User + system CPU time of this process so far (getrusage), in seconds.
double own_cpu_seconds();

}  // namespace cablecast::bench
