// Byte-pair merging of one pre-tokenized piece, exactly as tiktoken does it: repeatedly merge
// the adjacent pair whose concatenation has the lowest rank (leftmost on ties).
//
// tiktoken rescans the whole piece after every merge, which is quadratic in the piece's
// length; a 100 kB run of one letter takes seconds. Short pieces use that same simple scan
// (it is the fastest for a handful of bytes); long ones use a min-heap of pair ranks over a
// linked list of parts, O(n log n), with the same tie-breaking and so the same result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "budget/rank_table.hpp"

namespace parley::budget {

/// Reusable working memory for encode_piece(), so the hot path does not allocate.
struct BpeScratch {
  std::vector<std::uint32_t> starts;   // simple scan: part start offsets
  std::vector<Rank> pair_ranks;        // rank of (part i + part i+1)
  std::vector<std::uint32_t> next;     // heap variant: linked list by start offset
  std::vector<std::uint32_t> prev;
  std::vector<std::uint64_t> heap;     // (rank << 32) | start offset
  /// Rank-table lookups performed so far; tests use it to check the work grows linearly.
  std::uint64_t lookups = 0;
};

/// Pieces at least this long use the heap algorithm.
inline constexpr std::size_t kHeapMergeThreshold = 64;

enum class MergeAlgorithm { automatic, simple_scan, heap };

/// Appends the ranks of `piece` to `out`. Every byte must have a rank (see
/// RankTable::require_all_bytes). `algorithm` is for tests; leave it automatic.
void encode_piece(const RankTable &ranks, std::string_view piece, BpeScratch &scratch,
                  std::vector<Rank> &out, MergeAlgorithm algorithm = MergeAlgorithm::automatic);

}  // namespace parley::budget
