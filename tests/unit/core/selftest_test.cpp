#include "core/selftest.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace parley::core {
namespace {

TEST(Selftest, PhonePathPassesWithRealisticFigures) {
  const auto report = run_selftest();
  EXPECT_TRUE(report.ok);
  ASSERT_EQ(report.checks.size(), 5u);
  for (const auto &check : report.checks) {
    EXPECT_TRUE(check.ok) << check.name << " " << check.sinad_db;
  }
  // G.711 cannot do better than ~38-40 dB on this signal; a figure far above it would mean
  // the codec was skipped.
  EXPECT_LT(report.checks[0].sinad_db, 45.0);
  const auto json = nlohmann::json::parse(report.to_json());
  EXPECT_TRUE(json["ok"].get<bool>());
  EXPECT_EQ(json["checks"].size(), 5u);
}

TEST(Selftest, MeasurementCatchesNoiseAndLevelLoss) {
  const auto clean = selftest_tones(16000, 1.0);
  EXPECT_GT(measure_round_trip("clean", 60, clean, 16000).sinad_db, 60);

  auto noisy = clean;
  std::mt19937 rng(7);
  // Tone power 2 x 8000^2 / 2 = 6.4e7 against noise 250^2: 10 log10(1024) = 30.1 dB.
  std::normal_distribution<double> noise(0, 250);
  for (auto &s : noisy) s = static_cast<int16_t>(s + noise(rng));
  const auto noisy_check = measure_round_trip("noisy", 40, noisy, 16000);
  EXPECT_FALSE(noisy_check.ok);
  EXPECT_NEAR(noisy_check.sinad_db, 30.1, 0.5);

  auto quiet = clean;
  for (auto &s : quiet) s = static_cast<int16_t>(s / 2);
  const auto quiet_check = measure_round_trip("quiet", 30, quiet, 16000);
  EXPECT_FALSE(quiet_check.ok);
  EXPECT_NEAR(quiet_check.gain_db, -6.0, 0.1);
}

}  // namespace
}  // namespace parley::core
