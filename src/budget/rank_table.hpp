// The vocabulary of a byte-level BPE encoding: token bytes <-> rank, with a lookup fast
// enough for the merge loop (open addressing, one multiply-mix hash, no allocation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::budget {

using Rank = std::uint32_t;
inline constexpr Rank kNoRank = 0xFFFFFFFFu;

class RankTable {
 public:
  /// Adds a token. Throws parley::Error(format) for an empty token, a rank that is already
  /// used or bytes that already have a rank (both would make the encoding ambiguous).
  void add(std::string_view bytes, Rank rank);

  /// The rank of exactly these bytes, or kNoRank.
  Rank find(std::string_view bytes) const noexcept {
    return find(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size());
  }
  Rank find(const unsigned char *bytes, std::size_t length) const noexcept;

  /// The bytes of a rank; empty for a rank not in the table.
  std::string_view bytes_of(Rank rank) const noexcept;

  std::size_t size() const noexcept { return count_; }
  /// One past the largest rank.
  Rank rank_limit() const noexcept { return static_cast<Rank>(spans_.size()); }

  /// Checks the table can encode any input: all 256 single bytes have a rank.
  void require_all_bytes() const;

 private:
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;  // 0: no token has this rank
  };
  void grow();
  void insert_slot(std::uint64_t hash, Rank rank);

  std::string arena_;             // token bytes, back to back
  std::vector<Span> spans_;       // indexed by rank
  std::vector<std::uint64_t> slots_;  // (hash high 32 bits << 32) | rank; ~0 = empty
  std::size_t count_ = 0;
  std::size_t mask_ = 0;
};

/// The hash RankTable uses (exposed for tests of its distribution).
std::uint64_t hash_bytes(const unsigned char *bytes, std::size_t length) noexcept;

}  // namespace parley::budget
