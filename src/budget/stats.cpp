#include "budget/stats.hpp"

#include <algorithm>
#include <cmath>

namespace parley::budget {

void RollingWindow::add(double value) {
  values_.push_back(value);
  if (values_.size() > capacity_) values_.pop_front();
}

double percentile_of(std::span<double> values, double p) {
  if (values.empty()) return 0;
  const double clamped = std::clamp(p, 0.0, 100.0);
  const double position = clamped / 100.0 * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  // Selection, not a sort: Theil-Sen takes the median of ~20,000 slopes on every sample.
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(below);
  std::nth_element(values.begin(), nth, values.end());
  const double low = *nth;
  if (below + 1 >= values.size() || fraction == 0) return low;
  const double high = *std::min_element(nth + 1, values.end());
  return low + (high - low) * fraction;
}

double RollingWindow::percentile(double p) const {
  std::vector<double> copy(values_.begin(), values_.end());
  return percentile_of(copy, p);
}

double RollingWindow::mean() const {
  if (values_.empty()) return 0;
  double sum = 0;
  for (const double v : values_) sum += v;
  return sum / static_cast<double>(values_.size());
}

double RollingWindow::jitter() const {
  if (values_.size() < 2) return 0;
  double sum = 0;
  for (std::size_t i = 1; i < values_.size(); ++i) sum += std::fabs(values_[i] - values_[i - 1]);
  return sum / static_cast<double>(values_.size() - 1);
}

std::optional<LinearFit> theil_sen(std::span<const double> x, std::span<const double> y, double min_x_range) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 3) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
  if (*hi - *lo < min_x_range) return std::nullopt;
  std::vector<double> slopes;
  slopes.reserve(n * (n - 1) / 2);
  double concordant = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[j] - x[i];
      // Pairs closer than a token apart say nothing about the slope.
      if (std::fabs(dx) < 1.0) continue;
      const double slope = (y[j] - y[i]) / dx;
      slopes.push_back(slope);
      concordant += slope > 0 ? 1 : slope < 0 ? -1 : 0;
    }
  }
  if (slopes.empty()) return std::nullopt;
  LinearFit fit;
  const double tau = concordant / static_cast<double>(slopes.size());
  const double count = static_cast<double>(n);
  fit.trend_z = 3 * tau * std::sqrt(count * (count - 1)) / std::sqrt(2 * (2 * count + 5));
  fit.slope = percentile_of(slopes, 50);
  std::vector<double> intercepts(n);
  for (std::size_t i = 0; i < n; ++i) intercepts[i] = y[i] - fit.slope * x[i];
  fit.intercept = percentile_of(intercepts, 50);
  fit.samples = n;
  return fit;
}

void LatencyCurve::add(double prompt_tokens, double ttft_ms) {
  tokens_.push_back(prompt_tokens);
  ttft_.push_back(ttft_ms);
  if (tokens_.size() > capacity_) {
    tokens_.pop_front();
    ttft_.pop_front();
  }
  refit();
}

void LatencyCurve::refit() {
  const std::vector<double> x(tokens_.begin(), tokens_.end());
  const std::vector<double> y(ttft_.begin(), ttft_.end());
  // Ask for a spread of at least 10% of the mean prompt (and 50 tokens): a slope read off
  // a narrower range is mostly noise.
  double mean = 0;
  for (const double v : x) mean += v;
  mean /= static_cast<double>(std::max<std::size_t>(x.size(), 1));
  fit_ = theil_sen(x, y, std::max(50.0, 0.1 * mean));
}

double LatencyCurve::residual_percentile(double p) const {
  if (!fit_ || tokens_.empty()) return 0;
  std::vector<double> residuals(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) residuals[i] = ttft_[i] - fit_->predict(tokens_[i]);
  return percentile_of(residuals, p);
}

}  // namespace parley::budget
