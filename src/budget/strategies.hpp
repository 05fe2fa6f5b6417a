// Compression strategies, cheapest first. They work on units, not messages: an assistant
// message with tool calls and the tool results that answer it form one unit, so a call is
// never separated from its result. Protected units (instructions, pinned messages, the
// recent tail) are never removed, and the order of what remains never changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "budget/messages.hpp"

namespace parley::budget {

/// A contiguous run of messages that is kept or removed as a whole.
struct Unit {
  std::size_t first = 0;  ///< index of its first message
  std::size_t last = 0;   ///< index of its last message (inclusive)
  std::size_t tokens = 0;
  bool is_protected = false;
};

/// Groups messages into units. `tokens[i]` is message i's count. Protected: system and
/// developer messages, pinned messages (and their whole unit), the last user message and
/// everything after it, and the last `protect_recent_messages` messages.
std::vector<Unit> group_units(const std::vector<Message> &messages, std::span<const std::size_t> tokens,
                              std::size_t protect_recent_messages);

/// Which messages a compression keeps, and the prompt tokens that leaves.
struct Selection {
  std::vector<bool> keep;
  std::size_t tokens = 0;
};

/// Sliding window: removes the oldest unprotected units until `selection.tokens <= budget`,
/// never touching the last `keep_recent_messages` messages. Returns the tokens removed.
std::size_t apply_sliding_window(const std::vector<Unit> &units, Selection &selection, std::size_t budget,
                                 std::size_t keep_recent_messages);

/// Relevance trim: removes the unprotected units with the lowest `scores` (older first on
/// ties) until `selection.tokens <= budget`. Returns the tokens removed.
std::size_t apply_relevance_trim(const std::vector<Unit> &units, std::span<const double> scores,
                                 Selection &selection, std::size_t budget);

/// A bag of words: (term hash, count), sorted by hash. Terms are runs of letters and digits,
/// ASCII lower-cased (non-ASCII bytes are kept as they are).
using TermBag = std::vector<std::pair<std::uint64_t, std::uint32_t>>;
TermBag make_term_bag(std::string_view text);
/// Sum of several bags.
TermBag merge_term_bags(std::span<const TermBag *const> bags);

/// Okapi BM25 (k1 = 1.2, b = 0.75) of each document against the query; IDF over `documents`.
std::vector<double> bm25_scores(std::span<const TermBag *const> documents, const TermBag &query);

/// Cosine similarity; 0 when either vector is zero or the sizes differ.
double cosine_similarity(std::span<const float> a, std::span<const float> b) noexcept;

}  // namespace parley::budget
