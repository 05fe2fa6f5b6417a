#include "budget/strategies.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "budget/rank_table.hpp"

namespace parley::budget {

std::vector<Unit> group_units(const std::vector<Message> &messages, std::span<const std::size_t> tokens,
                              std::size_t protect_recent_messages) {
  std::vector<Unit> units;
  const std::size_t n = messages.size();
  std::size_t last_user = n;
  for (std::size_t i = n; i-- > 0;) {
    if (messages[i].role == "user") {
      last_user = i;
      break;
    }
  }
  const std::size_t recent_start = n > protect_recent_messages ? n - protect_recent_messages : 0;
  for (std::size_t i = 0; i < n;) {
    Unit unit{i, i, tokens[i], false};
    const Message &head = messages[i];
    // An assistant turn with tool calls takes the results that follow it.
    if (head.role == "assistant" && !head.tool_call_ids.empty()) {
      while (unit.last + 1 < n && !messages[unit.last + 1].tool_call_id.empty() &&
             std::find(head.tool_call_ids.begin(), head.tool_call_ids.end(), messages[unit.last + 1].tool_call_id) !=
                 head.tool_call_ids.end()) {
        ++unit.last;
        unit.tokens += tokens[unit.last];
      }
    }
    for (std::size_t m = unit.first; m <= unit.last; ++m) {
      if (messages[m].is_instructions() || messages[m].pinned || m >= recent_start || m >= last_user) {
        unit.is_protected = true;
      }
    }
    units.push_back(unit);
    i = unit.last + 1;
  }
  return units;
}

namespace {
void drop(const Unit &unit, Selection &selection) {
  for (std::size_t m = unit.first; m <= unit.last; ++m) selection.keep[m] = false;
  selection.tokens -= std::min(selection.tokens, unit.tokens);
}
bool dropped(const Unit &unit, const Selection &selection) { return !selection.keep[unit.first]; }
}  // namespace

std::size_t apply_sliding_window(const std::vector<Unit> &units, Selection &selection, std::size_t budget,
                                 std::size_t keep_recent_messages) {
  const std::size_t before = selection.tokens;
  const std::size_t n = selection.keep.size();
  const std::size_t window_start = n > keep_recent_messages ? n - keep_recent_messages : 0;
  for (const Unit &unit : units) {
    if (selection.tokens <= budget || unit.last >= window_start) break;
    if (unit.is_protected || dropped(unit, selection)) continue;
    drop(unit, selection);
  }
  return before - selection.tokens;
}

std::size_t apply_relevance_trim(const std::vector<Unit> &units, std::span<const double> scores,
                                 Selection &selection, std::size_t budget) {
  const std::size_t before = selection.tokens;
  std::vector<std::size_t> order(units.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  for (const std::size_t u : order) {
    if (selection.tokens <= budget) break;
    if (units[u].is_protected || dropped(units[u], selection)) continue;
    drop(units[u], selection);
  }
  return before - selection.tokens;
}

TermBag make_term_bag(std::string_view text) {
  std::vector<std::uint64_t> hashes;
  std::string term;
  auto flush = [&] {
    if (!term.empty()) {
      hashes.push_back(hash_bytes(reinterpret_cast<const unsigned char *>(term.data()), term.size()));
      term.clear();
    }
  };
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80) {
      term.push_back(c);
    } else if (b >= 'A' && b <= 'Z') {
      term.push_back(static_cast<char>(b + 32));
    } else {
      flush();
    }
  }
  flush();
  std::sort(hashes.begin(), hashes.end());
  TermBag bag;
  for (const std::uint64_t h : hashes) {
    if (!bag.empty() && bag.back().first == h) {
      ++bag.back().second;
    } else {
      bag.emplace_back(h, 1);
    }
  }
  return bag;
}

TermBag merge_term_bags(std::span<const TermBag *const> bags) {
  if (bags.size() == 1) return *bags[0];
  TermBag all;
  for (const TermBag *bag : bags) all.insert(all.end(), bag->begin(), bag->end());
  std::sort(all.begin(), all.end());
  TermBag merged;
  for (const auto &[hash, count] : all) {
    if (!merged.empty() && merged.back().first == hash) {
      merged.back().second += count;
    } else {
      merged.emplace_back(hash, count);
    }
  }
  return merged;
}

std::vector<double> bm25_scores(std::span<const TermBag *const> documents, const TermBag &query) {
  constexpr double k1 = 1.2;
  constexpr double b = 0.75;
  const std::size_t n = documents.size();
  std::vector<double> scores(n, 0.0);
  if (n == 0 || query.empty()) return scores;
  struct Hit {
    std::uint32_t document;
    std::uint32_t term;  // index into query
    std::uint32_t count;
  };
  std::vector<Hit> hits;
  std::vector<std::uint32_t> document_frequency(query.size(), 0);
  std::vector<double> lengths(n, 0.0);
  double total_length = 0;
  // Both bags are sorted by term hash: one merge-join per document finds its query terms.
  for (std::size_t d = 0; d < n; ++d) {
    const TermBag &bag = *documents[d];
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < bag.size() && j < query.size()) {
      if (bag[i].first < query[j].first) {
        lengths[d] += bag[i++].second;
      } else if (query[j].first < bag[i].first) {
        ++j;
      } else {
        hits.push_back({static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(j), bag[i].second});
        ++document_frequency[j];
        lengths[d] += bag[i++].second;
        ++j;
      }
    }
    for (; i < bag.size(); ++i) lengths[d] += bag[i].second;
    total_length += lengths[d];
  }
  const double average_length = std::max(1.0, total_length / static_cast<double>(n));
  std::vector<double> idf(query.size());
  for (std::size_t j = 0; j < query.size(); ++j) {
    const double df = document_frequency[j];
    idf[j] = std::log(1.0 + (static_cast<double>(n) - df + 0.5) / (df + 0.5));
  }
  for (const Hit &hit : hits) {
    const double tf = hit.count;
    scores[hit.document] +=
        idf[hit.term] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[hit.document] / average_length));
  }
  return scores;
}

double cosine_similarity(std::span<const float> a, std::span<const float> b) noexcept {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0;
  double norm_a = 0;
  double norm_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += double{a[i]} * b[i];
    norm_a += double{a[i]} * a[i];
    norm_b += double{b[i]} * b[i];
  }
  if (norm_a <= 0 || norm_b <= 0) return 0;
  return dot / std::sqrt(norm_a * norm_b);
}

}  // namespace parley::budget
