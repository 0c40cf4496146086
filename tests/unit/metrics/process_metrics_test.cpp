#include "metrics/process_metrics.hpp"

#include <gtest/gtest.h>

namespace cablecast::metrics {
namespace {

// proc(5) fields 1..24: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
// majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize
// rss. The command name holds a space and a parenthesis, as a process may name itself.
constexpr std::string_view kStat =
    "4242 (cable cast)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 5 0 1000 "
    "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";

TEST(ProcStat, ReadsCpuTimeFromUserAndSystemTicks) {
  auto process = parse_proc_stat(kStat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(process);
  EXPECT_DOUBLE_EQ(process->cpu_seconds, 3.0);  // (250 + 50) / 100
}

TEST(ProcStat, ReadsStartTimeFromBootTimeAndTicks) {
  auto process = parse_proc_stat(kStat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(process);
  EXPECT_DOUBLE_EQ(process->start_time_seconds, 1'700'000'010.0);  // + 1000 / 100
}

TEST(ProcStat, ReadsMemoryInBytes) {
  auto process = parse_proc_stat(kStat, 100, 4096, 0);
  ASSERT_TRUE(process);
  EXPECT_DOUBLE_EQ(process->virtual_bytes, 123456789.0);
  EXPECT_DOUBLE_EQ(process->resident_bytes, 300.0 * 4096);
}

TEST(ProcStat, RefusesTextWithoutTheFields) {
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2", 100, 4096, 0));
  EXPECT_FALSE(parse_proc_stat("garbage", 100, 4096, 0));
}

TEST(ProcessMetrics, ReadsThisProcess) {
  auto process = read_process_metrics();
  ASSERT_TRUE(process) << process.error().message();
  EXPECT_GT(process->resident_bytes, 0);
  EXPECT_GE(process->open_fds, 3);  // stdin, stdout, stderr at least
  EXPECT_GE(process->max_fds, process->open_fds);
  EXPECT_GT(process->start_time_seconds, 1'600'000'000);
}

}  // namespace
}  // namespace cablecast::metrics
