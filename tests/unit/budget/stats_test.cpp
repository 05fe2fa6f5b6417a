#include "budget/stats.hpp"

#include <gtest/gtest.h>

#include <random>

namespace parley::budget {
namespace {

TEST(RollingWindow, PercentilesJitterAndCapacity) {
  RollingWindow window(5);
  EXPECT_EQ(window.percentile(95), 0);
  for (const double v : {100.0, 200.0, 300.0, 400.0, 500.0, 600.0}) window.add(v);
  EXPECT_EQ(window.size(), 5u);  // 100 fell out
  EXPECT_DOUBLE_EQ(window.percentile(50), 400);
  EXPECT_DOUBLE_EQ(window.percentile(0), 200);
  EXPECT_DOUBLE_EQ(window.percentile(100), 600);
  EXPECT_DOUBLE_EQ(window.percentile(95), 580);  // linear between 500 and 600
  EXPECT_DOUBLE_EQ(window.jitter(), 100);
  EXPECT_DOUBLE_EQ(window.mean(), 400);
}

TEST(TheilSen, RecoversTheLineDespiteHeavyOutliers) {
  std::mt19937 rng(3);
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 200; ++i) {
    const double tokens = 500 + 50.0 * i;
    double ttft = 300 + 0.08 * tokens + std::normal_distribution<double>(0, 10)(rng);
    if (i % 5 == 0) ttft += 3000;  // 20% wild outliers (stalls, retries)
    x.push_back(tokens);
    y.push_back(ttft);
  }
  const auto fit = theil_sen(x, y, 50);
  ASSERT_TRUE(fit);
  EXPECT_NEAR(fit->slope, 0.08, 0.01);
  EXPECT_NEAR(fit->intercept, 300, 60);
  EXPECT_GT(fit->trend_z, 10);
}

TEST(TheilSen, RefusesWithoutSpreadAndFindsNoTrendInNoise) {
  EXPECT_FALSE(theil_sen(std::vector<double>{1000, 1010, 1020}, std::vector<double>{1, 2, 3}, 50));
  EXPECT_FALSE(theil_sen(std::vector<double>{1, 2}, std::vector<double>{1, 2}, 0));
  std::mt19937 rng(5);
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 100; ++i) {
    x.push_back(100.0 * i);
    y.push_back(400 + std::normal_distribution<double>(0, 30)(rng));
  }
  const auto fit = theil_sen(x, y, 50);
  ASSERT_TRUE(fit);
  EXPECT_LT(fit->trend_z, 3);
}

TEST(LatencyCurve, FitsOnceSpreadAndReportsResidualMargin) {
  LatencyCurve curve(50);
  curve.add(1000, 400);
  curve.add(1010, 401);
  curve.add(1020, 402);
  EXPECT_FALSE(curve.fit());  // 20 tokens of spread: not enough
  for (int i = 0; i < 40; ++i) curve.add(1000 + 100.0 * i, 200 + 0.2 * (1000 + 100.0 * i) + (i % 10 == 0 ? 50 : 0));
  ASSERT_TRUE(curve.fit());
  EXPECT_NEAR(curve.fit()->slope, 0.2, 1e-9);
  EXPECT_NEAR(curve.residual_percentile(50), 0, 1e-6);
  EXPECT_GT(curve.residual_percentile(99), 40);
}

}  // namespace
}  // namespace parley::budget
