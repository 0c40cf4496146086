#include "core/cpu_budget.hpp"

#include <gtest/gtest.h>

namespace cablecast::core {
namespace {

TEST(CgroupV2CpuMax, WithoutAQuotaIsNoLimit) { EXPECT_FALSE(parse_cpu_max("max 100000\n")); }

TEST(CgroupV2CpuMax, IsTheQuotaOverThePeriodInCpus) {
  EXPECT_DOUBLE_EQ(*parse_cpu_max("150000 100000\n"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("50000 100000"), 0.5);
}

TEST(CgroupV2CpuMax, UnreadableTextIsNoLimit) {
  EXPECT_FALSE(parse_cpu_max(""));
  EXPECT_FALSE(parse_cpu_max("lots 100000"));
  EXPECT_FALSE(parse_cpu_max("100000"));
  EXPECT_FALSE(parse_cpu_max("100000 0"));
}

TEST(CgroupV1Quota, MinusOneIsNoLimit) {
  EXPECT_FALSE(cfs_quota_cpus(-1, 100000));
  EXPECT_DOUBLE_EQ(*cfs_quota_cpus(200000, 100000), 2.0);
}

TEST(UsableCpuCount, IsTheAffinityMaskWithoutAQuota) {
  EXPECT_EQ(usable_cpu_count(8, std::nullopt), 8u);
  EXPECT_EQ(usable_cpu_count(1, std::nullopt), 1u);
}

TEST(UsableCpuCount, RoundsAFractionalQuotaDown) {
  EXPECT_EQ(usable_cpu_count(8, 1.5), 1u);
  EXPECT_EQ(usable_cpu_count(8, 2.0), 2u);
  EXPECT_EQ(usable_cpu_count(8, 3.99), 3u);
}

TEST(UsableCpuCount, IsNeverAboveTheAffinityMaskNorBelowOne) {
  EXPECT_EQ(usable_cpu_count(2, 16.0), 2u);
  EXPECT_EQ(usable_cpu_count(4, 0.25), 1u);
  EXPECT_EQ(usable_cpu_count(0, std::nullopt), 1u);
}

TEST(DetectCpuBudget, CountsAtLeastOneCpuAndSaysWhy) {
  CpuBudget budget = detect_cpu_budget();
  EXPECT_GE(budget.count, 1u);
  EXPECT_FALSE(budget.reason.empty());
  EXPECT_LE(budget.count, budget.cpus.empty() ? budget.count : budget.cpus.size());
}

}  // namespace
}  // namespace cablecast::core
