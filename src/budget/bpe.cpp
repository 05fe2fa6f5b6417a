#include "budget/bpe.hpp"

#include <algorithm>
#include <functional>

namespace parley::budget {
namespace {

using Bytes = const unsigned char *;

Rank lookup(const RankTable &ranks, Bytes piece, std::size_t begin, std::size_t end, BpeScratch &scratch) {
  ++scratch.lookups;
  return ranks.find(piece + begin, end - begin);
}

// tiktoken's own algorithm: after each merge, recompute the two affected pair ranks and
// rescan for the minimum. Quadratic, but tight for short pieces.
void merge_by_scan(const RankTable &ranks, Bytes piece, std::size_t n, BpeScratch &scratch,
                   std::vector<Rank> &out) {
  auto &starts = scratch.starts;
  auto &pair_ranks = scratch.pair_ranks;
  starts.resize(n + 1);
  pair_ranks.resize(n + 1);
  for (std::size_t i = 0; i <= n; ++i) starts[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = 0; i + 1 < n; ++i) pair_ranks[i] = lookup(ranks, piece, i, i + 2, scratch);
  pair_ranks[n - 1] = kNoRank;
  std::size_t parts = n;  // parts are starts[0..parts), with starts[parts] == n
  // Rank of part i merged with part i+1, given the current part boundaries.
  auto rank_of_pair = [&](std::size_t i) {
    return i + 2 <= parts ? lookup(ranks, piece, starts[i], starts[i + 2], scratch) : kNoRank;
  };
  for (;;) {
    Rank best = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < parts; ++i) {
      if (pair_ranks[i] < best) {
        best = pair_ranks[i];
        at = i;
      }
    }
    if (best == kNoRank) break;
    // Merge part `at` with part `at + 1`.
    std::copy(starts.begin() + static_cast<std::ptrdiff_t>(at) + 2,
              starts.begin() + static_cast<std::ptrdiff_t>(parts) + 1,
              starts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    std::copy(pair_ranks.begin() + static_cast<std::ptrdiff_t>(at) + 2,
              pair_ranks.begin() + static_cast<std::ptrdiff_t>(parts),
              pair_ranks.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    --parts;
    pair_ranks[at] = rank_of_pair(at);
    if (at > 0) pair_ranks[at - 1] = rank_of_pair(at - 1);
  }
  for (std::size_t i = 0; i < parts; ++i) out.push_back(ranks.find(piece + starts[i], starts[i + 1] - starts[i]));
}

// The same merges in the same order, found with a min-heap keyed by (rank, start): a pair's
// start offset never changes, so it orders ties leftmost exactly as the scan does. Entries
// made stale by a neighbour's merge are skipped when popped (their rank no longer matches).
void merge_by_heap(const RankTable &ranks, Bytes piece, std::size_t n, BpeScratch &scratch,
                   std::vector<Rank> &out) {
  auto &next = scratch.next;
  auto &prev = scratch.prev;
  auto &pair_ranks = scratch.pair_ranks;
  auto &heap = scratch.heap;
  next.resize(n + 1);
  prev.resize(n + 1);
  pair_ranks.resize(n + 1);
  heap.clear();
  const auto end_marker = static_cast<std::uint32_t>(n);
  for (std::size_t i = 0; i <= n; ++i) {
    next[i] = static_cast<std::uint32_t>(i + 1);
    prev[i] = static_cast<std::uint32_t>(i == 0 ? 0 : i - 1);
  }
  auto push = [&](std::uint32_t start, Rank rank) {
    pair_ranks[start] = rank;
    if (rank == kNoRank) return;
    heap.push_back((std::uint64_t{rank} << 32) | start);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  };
  auto rank_of_pair = [&](std::uint32_t start) {
    const std::uint32_t second = next[start];
    if (second >= end_marker) return kNoRank;
    return lookup(ranks, piece, start, next[second], scratch);
  };
  for (std::uint32_t i = 0; i + 1 < n; ++i) push(i, lookup(ranks, piece, i, i + 2, scratch));
  pair_ranks[n - 1] = kNoRank;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const std::uint64_t top = heap.back();
    heap.pop_back();
    const auto start = static_cast<std::uint32_t>(top & 0xFFFFFFFFu);
    const auto rank = static_cast<Rank>(top >> 32);
    if (pair_ranks[start] != rank) continue;  // stale: this part changed since the push
    const std::uint32_t removed = next[start];
    next[start] = next[removed];
    if (next[removed] < end_marker) prev[next[removed]] = start;
    pair_ranks[removed] = kNoRank;
    push(start, rank_of_pair(start));
    if (start > 0) push(prev[start], rank_of_pair(prev[start]));
  }
  for (std::uint32_t i = 0; i < end_marker; i = next[i]) out.push_back(ranks.find(piece + i, next[i] - i));
}

}  // namespace

void encode_piece(const RankTable &ranks, std::string_view piece, BpeScratch &scratch,
                  std::vector<Rank> &out, MergeAlgorithm algorithm) {
  const auto *bytes = reinterpret_cast<Bytes>(piece.data());
  const std::size_t n = piece.size();
  if (n == 0) return;
  if (algorithm == MergeAlgorithm::automatic) {
    ++scratch.lookups;
    const Rank whole = ranks.find(bytes, n);  // tiktoken takes a whole-piece match as is
    if (whole != kNoRank) {
      out.push_back(whole);
      return;
    }
  }
  if (n == 1) {
    out.push_back(ranks.find(bytes, 1));
    return;
  }
  const bool use_heap = algorithm == MergeAlgorithm::heap ||
                        (algorithm == MergeAlgorithm::automatic && n >= kHeapMergeThreshold);
  if (use_heap) {
    merge_by_heap(ranks, bytes, n, scratch, out);
  } else {
    merge_by_scan(ranks, bytes, n, scratch, out);
  }
}

}  // namespace parley::budget
