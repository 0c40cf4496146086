#include "core/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "fmt/format.h"

namespace cablecast::core {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<long long> to_integer(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool has_token(std::string_view list, std::string_view token) {
  for (auto part : split(list, ',')) {
    if (part == token) return true;
  }
  return false;
}

// Where this process's cgroup of one hierarchy lives on disk: the hierarchy's mount point plus
// the process's path in it (relative to the mount's own root, which differs in containers).
struct CgroupDir {
  std::string mount_point;
  std::string directory;
};

// `version2`: the unified hierarchy; otherwise the v1 hierarchy with the "cpu" controller.
std::optional<CgroupDir> find_cgroup(bool version2) {
  auto memberships = read_file("/proc/self/cgroup");
  auto mounts = read_file("/proc/self/mountinfo");
  if (!memberships || !mounts) return std::nullopt;
  std::optional<std::string> path;
  for (auto line : split(*memberships, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    const bool unified = fields[0] == "0" && fields[1].empty();
    if (version2 ? unified : (!unified && has_token(fields[1], "cpu"))) {
      // The path is everything after the second ':' (it may itself contain ':').
      path = std::string(line.substr(fields[0].size() + fields[1].size() + 2));
      break;
    }
  }
  if (!path) return std::nullopt;
  for (auto line : split(*mounts, '\n')) {
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto before = split(line.substr(0, dash), ' ');
    auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const bool matches =
        version2 ? after[0] == "cgroup2" : (after[0] == "cgroup" && has_token(after[2], "cpu"));
    if (!matches) continue;
    std::string_view root = before[3];
    std::string_view relative = *path;
    if (root != "/" && relative.starts_with(root)) relative.remove_prefix(root.size());
    std::string mount_point(before[4]);
    std::string directory = mount_point;
    if (!relative.empty() && relative != "/") directory += std::string(relative);
    return CgroupDir{std::move(mount_point), std::move(directory)};
  }
  return std::nullopt;
}

// The smallest quota on the way from the process's cgroup up to the hierarchy's root: a parent's
// limit binds its children too.
template <class ReadQuota>
std::optional<double> smallest_quota(const CgroupDir& cgroup, ReadQuota read_quota) {
  std::optional<double> smallest;
  std::string directory = cgroup.directory;
  while (true) {
    if (auto quota = read_quota(directory); quota && (!smallest || *quota < *smallest)) {
      smallest = quota;
    }
    if (directory.size() <= cgroup.mount_point.size()) return smallest;
    directory.resize(directory.rfind('/'));
  }
}

std::optional<double> cgroup_quota() {
  if (auto v2 = find_cgroup(true)) {
    auto quota = smallest_quota(*v2, [](const std::string& directory) -> std::optional<double> {
      auto text = read_file(directory + "/cpu.max");
      return text ? parse_cpu_max(*text) : std::nullopt;
    });
    if (quota) return quota;
  }
  if (auto v1 = find_cgroup(false)) {
    return smallest_quota(*v1, [](const std::string& directory) -> std::optional<double> {
      auto quota = read_file(directory + "/cpu.cfs_quota_us");
      auto period = read_file(directory + "/cpu.cfs_period_us");
      if (!quota || !period) return std::nullopt;
      auto q = to_integer(*quota);
      auto p = to_integer(*period);
      return q && p ? cfs_quota_cpus(*q, *p) : std::nullopt;
    });
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
  auto fields = split(text.substr(0, text.find('\n')), ' ');
  if (fields.size() != 2 || fields[0] == "max") return std::nullopt;
  auto quota = to_integer(fields[0]);
  auto period = to_integer(fields[1]);
  if (!quota || !period) return std::nullopt;
  return cfs_quota_cpus(*quota, *period);
}

std::optional<double> cfs_quota_cpus(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

unsigned usable_cpu_count(unsigned affinity_cpus, std::optional<double> quota_cpus) {
  unsigned count = std::max(1u, affinity_cpus);
  if (quota_cpus) {
    const double whole = std::floor(*quota_cpus + 1e-9);  // 2.0 stays 2 despite rounding
    count = std::min(count, whole < 1.0 ? 1u : static_cast<unsigned>(whole));
  }
  return count;
}

CpuBudget detect_cpu_budget() {
  CpuBudget budget;
  const unsigned machine = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &mask)) budget.cpus.push_back(cpu);
    }
  }
  const unsigned affinity =
      budget.cpus.empty() ? machine : static_cast<unsigned>(budget.cpus.size());
  const std::optional<double> quota = cgroup_quota();
  budget.count = usable_cpu_count(affinity, quota);
  if (budget.cpus.empty()) {
    budget.reason = fmt::format("affinity mask unreadable: the machine's {} CPUs", machine);
  } else {
    budget.reason = affinity < machine ? fmt::format("affinity mask: {} of the machine's {} CPUs",
                                                     affinity, machine)
                                       : fmt::format("the machine's {} CPUs", machine);
  }
  if (quota) {
    budget.reason += fmt::format(", cgroup CPU quota {:.2f}{}", *quota,
                                 budget.count < affinity ? " (rounded down)" : "");
  }
  return budget;
}

}  // namespace cablecast::core
