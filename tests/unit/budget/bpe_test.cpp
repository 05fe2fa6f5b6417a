#include "budget/bpe.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "budget/rank_table.hpp"
#include "common/error.hpp"

namespace parley::budget {
namespace {

// A small vocabulary: every byte, then merges in rank order (as a BPE training run makes).
RankTable small_vocabulary() {
  RankTable ranks;
  Rank next = 0;
  for (int b = 0; b < 256; ++b) ranks.add(std::string(1, static_cast<char>(b)), next++);
  for (const char *token : {"aa", "ab", "ba", "aaaa", "abab", "bb", "aab", "aaaaaaaa", "ca", "cab", "abc", "bab", "xy", "wxyz"}) {
    ranks.add(token, next++);
  }
  return ranks;
}

std::vector<Rank> encode(const RankTable &ranks, std::string_view piece, MergeAlgorithm algorithm, BpeScratch &scratch) {
  std::vector<Rank> out;
  encode_piece(ranks, piece, scratch, out, algorithm);
  return out;
}

TEST(Bpe, MergesLowestRankFirstLeftmostOnTies) {
  const RankTable ranks = small_vocabulary();
  BpeScratch scratch;
  // "aaa": "aa" at 0 and at 1 tie; the leftmost wins, leaving "aa" + "a".
  EXPECT_EQ(encode(ranks, "aaa", MergeAlgorithm::simple_scan, scratch), (std::vector<Rank>{256, 'a'}));
  EXPECT_EQ(encode(ranks, "aaa", MergeAlgorithm::heap, scratch), (std::vector<Rank>{256, 'a'}));
  // "cab": "ab" (rank 257) merges before "ca" (264), then c + ab makes "cab".
  EXPECT_EQ(encode(ranks, "cab", MergeAlgorithm::heap, scratch), (std::vector<Rank>{265}));
  // "wxyz" cannot be reached by merges (w + xy + z has no mergeable pair)...
  EXPECT_EQ(encode(ranks, "wxyz", MergeAlgorithm::heap, scratch), (std::vector<Rank>{'w', 268, 'z'}));
  // ...but a whole-piece match is taken as is, as tiktoken does.
  EXPECT_EQ(encode(ranks, "wxyz", MergeAlgorithm::automatic, scratch), (std::vector<Rank>{269}));
}

TEST(Bpe, HeapAndScanAgreeOnRandomPieces) {
  const RankTable ranks = small_vocabulary();
  BpeScratch scratch;
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string piece(1 + rng() % 300, 'a');
    for (char &c : piece) c = "abc"[rng() % 3];
    ASSERT_EQ(encode(ranks, piece, MergeAlgorithm::simple_scan, scratch),
              encode(ranks, piece, MergeAlgorithm::heap, scratch))
        << piece;
  }
}

// The linear-time property, measured as work rather than time so it cannot flake: rank
// lookups grow in proportion to the piece (a quadratic merge would do ~n^2/2).
TEST(Bpe, LongRunsTakeLinearWork) {
  const RankTable ranks = small_vocabulary();
  BpeScratch scratch;
  std::vector<Rank> out;
  encode_piece(ranks, std::string(1000, 'a'), scratch, out);
  const auto small = scratch.lookups;
  scratch.lookups = 0;
  out.clear();
  encode_piece(ranks, std::string(100000, 'a'), scratch, out);
  const auto large = scratch.lookups;
  EXPECT_LT(large, small * 100 * 2);  // 100x the input, under 200x the work
  EXPECT_LT(large, 100000u * 10);
  // And the result is right: "aaaaaaaa" is the longest token, so 12,500 of them.
  EXPECT_EQ(out.size(), 12500u);
  for (const Rank r : out) ASSERT_EQ(r, ranks.find("aaaaaaaa"));
}

TEST(RankTable, RejectsAmbiguousVocabularies) {
  RankTable ranks;
  ranks.add("x", 0);
  EXPECT_THROW(ranks.add("y", 0), Error);   // rank reused
  EXPECT_THROW(ranks.add("x", 1), Error);   // bytes reused
  EXPECT_THROW(ranks.add("", 2), Error);    // empty token
  EXPECT_THROW(ranks.require_all_bytes(), Error);
  EXPECT_EQ(ranks.find("x"), 0u);
  EXPECT_EQ(ranks.find("y"), kNoRank);
  EXPECT_EQ(ranks.bytes_of(0), "x");
  EXPECT_EQ(ranks.bytes_of(99), "");
}

TEST(RankTable, FindsEveryTokenAfterGrowing) {
  RankTable ranks;
  for (Rank r = 0; r < 50000; ++r) ranks.add("token-" + std::to_string(r) + std::string(r % 23, 'z'), r);
  for (Rank r = 0; r < 50000; r += 7) EXPECT_EQ(ranks.find("token-" + std::to_string(r) + std::string(r % 23, 'z')), r);
  EXPECT_EQ(ranks.size(), 50000u);
}

}  // namespace
}  // namespace parley::budget
