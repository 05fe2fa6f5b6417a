// Latency statistics: a rolling window of TTFT samples with percentiles and jitter, and a
// robust fit of TTFT against prompt size (TTFT ~= a + b * prompt_tokens).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace parley::budget {

/// The last `capacity` samples of one quantity.
class RollingWindow {
 public:
  explicit RollingWindow(std::size_t capacity = 50) : capacity_(capacity == 0 ? 1 : capacity) {}

  void add(double value);
  std::size_t size() const noexcept { return values_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return values_.empty(); }
  const std::deque<double> &values() const noexcept { return values_; }

  /// Percentile in [0, 100] with linear interpolation between order statistics (the
  /// "type 7" definition numpy and spreadsheets use); 0 when empty.
  double percentile(double p) const;
  double mean() const;
  /// Mean absolute difference between consecutive samples (RFC 3550's jitter idea,
  /// unsmoothed); 0 with fewer than two samples.
  double jitter() const;

 private:
  std::size_t capacity_;
  std::deque<double> values_;
};

/// Percentile of arbitrary values (type 7); `values` is reordered. 0 when empty.
double percentile_of(std::span<double> values, double p);

struct LinearFit {
  double intercept = 0;  ///< a, milliseconds
  double slope = 0;      ///< b, milliseconds per prompt token
  std::size_t samples = 0;
  /// Kendall's tau test statistic of the points: how sure it is that TTFT grows with size
  /// at all (> 3: the chance of that trend under no relation is below 0.2%).
  double trend_z = 0;
  double predict(double tokens) const noexcept { return intercept + slope * tokens; }
};

/// Theil-Sen estimator: slope = median of pairwise slopes, intercept = median of y - b x.
/// Robust to heavy-tailed TTFT outliers (up to ~29% of points). Returns nullopt with fewer
/// than 3 points or when x has too little spread (`min_x_range`) to say anything about b.
std::optional<LinearFit> theil_sen(std::span<const double> x, std::span<const double> y, double min_x_range);

/// One model's learned latency curve: the recent (prompt tokens, TTFT) samples and their fit.
class LatencyCurve {
 public:
  explicit LatencyCurve(std::size_t capacity = 200) : capacity_(capacity) {}

  void add(double prompt_tokens, double ttft_ms);
  std::size_t samples() const noexcept { return tokens_.size(); }
  /// The fit, refreshed by add(); nullopt until there are enough well-spread samples.
  const std::optional<LinearFit> &fit() const noexcept { return fit_; }
  /// The p-th percentile of the residuals (measured - fitted), i.e. the noise margin the
  /// controller adds to the fitted line to predict a percentile rather than the median.
  double residual_percentile(double p) const;

 private:
  void refit();

  std::size_t capacity_;
  std::deque<double> tokens_;
  std::deque<double> ttft_;
  std::optional<LinearFit> fit_;
};

}  // namespace parley::budget
