#pragma once
// How many CPUs this process may actually use, so that the server starts one event loop per CPU
// it can run on rather than per CPU the machine has. Under `taskset`, a container's CPU quota or
// a cgroup, std::thread::hardware_concurrency() still answers the machine's count, and the extra
// loops then fight over the CPUs given (measured: p99 136 ms with one loop, 210 ms with two, on
// one core; issue 12). Two limits count, as in Go's and the JVM's runtimes:
// - the affinity mask (sched_getaffinity): taskset, cpuset cgroups, `docker --cpuset-cpus`;
// - the CPU bandwidth quota of the process's cgroup and its ancestors: cgroup v2 `cpu.max`, or
//   v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (`docker --cpus`, Kubernetes CPU limits).
// A fractional quota is rounded down (1.5 CPUs -> 1 loop): a loop that may only run part of the
// time delays every client on it. Never fewer than one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cablecast::core {

struct CpuBudget {
  unsigned count = 1;     // CPUs usable: the default number of event loops
  std::vector<int> cpus;  // the CPUs of the affinity mask, ascending (for --pin-threads)
  std::string reason;     // for the start-up log line, e.g. "cgroup CPU quota 1.5"
};

// Reads the affinity mask, /proc/self/cgroup, /proc/self/mountinfo and the cgroup files.
// Whatever cannot be read counts as "no limit" (said in `reason`).
CpuBudget detect_cpu_budget();

// The pure parts, for tests.
// cgroup v2 `cpu.max`: "max 100000" -> none; "150000 100000" -> 1.5 CPUs.
std::optional<double> parse_cpu_max(std::string_view text);
// cgroup v1: quota -1 (or 0) -> none; 50000 / 100000 -> 0.5 CPUs.
std::optional<double> cfs_quota_cpus(long long quota_us, long long period_us);
// min(affinity, floor(quota)), at least 1.
unsigned usable_cpu_count(unsigned affinity_cpus, std::optional<double> quota_cpus);

}  // namespace cablecast::core
