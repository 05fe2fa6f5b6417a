#include "budget/rank_table.hpp"

#include <cstring>
#include <string>

#include "common/error.hpp"

namespace parley::budget {
namespace {

constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
constexpr std::uint64_t kMul1 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kMul2 = 0xC2B2AE3D27D4EB4Full;

inline std::uint64_t load64(const unsigned char *p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t load32(const unsigned char *p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  a ^= b * kMul2;
  a *= kMul1;
  return a ^ (a >> 29);
}

}  // namespace

std::uint64_t hash_bytes(const unsigned char *p, std::size_t n) noexcept {
  std::uint64_t h = n * kMul1;
  if (n <= 16) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = (std::uint64_t{p[0]} << 16) | (std::uint64_t{p[n >> 1]} << 8) | p[n - 1];
    }
    return mix(mix(h, a), b);
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) h = mix(h, load64(p + i));
  return mix(h, load64(p + n - 8));
}

void RankTable::add(std::string_view bytes, Rank rank) {
  if (bytes.empty()) throw Error(Status::format, "rank file: empty token for rank " + std::to_string(rank));
  if (rank == kNoRank || rank >= (1u << 30)) {
    throw Error(Status::format, "rank file: rank " + std::to_string(rank) + " is out of range");
  }
  if (bytes.size() > 0xFFFF || arena_.size() + bytes.size() > 0xFFFFFFF0u) {
    throw Error(Status::format, "rank file: token of rank " + std::to_string(rank) + " is too long");
  }
  if (rank < spans_.size() && spans_[rank].length != 0) {
    throw Error(Status::format, "rank file: rank " + std::to_string(rank) + " appears twice");
  }
  if (find(bytes) != kNoRank) {
    throw Error(Status::format, "rank file: the token of rank " + std::to_string(rank) +
                                    " duplicates the token of rank " + std::to_string(find(bytes)));
  }
  if (rank >= spans_.size()) spans_.resize(std::size_t{rank} + 1);
  spans_[rank] = {static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(bytes.size())};
  arena_.append(bytes);
  ++count_;
  if (count_ * 2 > slots_.size()) {
    grow();
  } else {
    insert_slot(hash_bytes(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()), rank);
  }
}

void RankTable::insert_slot(std::uint64_t hash, Rank rank) {
  std::size_t slot = hash & mask_;
  while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  slots_[slot] = (hash & 0xFFFFFFFF00000000ull) | rank;
}

// Doubles the slot array (load factor <= 1/2) and reinserts every token.
void RankTable::grow() {
  std::size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
  while (capacity < count_ * 2) capacity *= 2;
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  const auto *base = reinterpret_cast<const unsigned char *>(arena_.data());
  for (std::size_t rank = 0; rank < spans_.size(); ++rank) {
    const Span span = spans_[rank];
    if (span.length != 0) insert_slot(hash_bytes(base + span.offset, span.length), static_cast<Rank>(rank));
  }
}

Rank RankTable::find(const unsigned char *bytes, std::size_t length) const noexcept {
  if (slots_.empty()) return kNoRank;
  const std::uint64_t hash = hash_bytes(bytes, length);
  const std::uint64_t tag = hash & 0xFFFFFFFF00000000ull;
  const auto *base = reinterpret_cast<const unsigned char *>(arena_.data());
  for (std::size_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
    const std::uint64_t entry = slots_[slot];
    if (entry == kEmpty) return kNoRank;
    if ((entry & 0xFFFFFFFF00000000ull) != tag) continue;
    const Rank rank = static_cast<Rank>(entry & 0xFFFFFFFFu);
    const Span span = spans_[rank];
    if (span.length == length && std::memcmp(base + span.offset, bytes, length) == 0) return rank;
  }
}

std::string_view RankTable::bytes_of(Rank rank) const noexcept {
  if (rank >= spans_.size()) return {};
  const Span span = spans_[rank];
  return std::string_view(arena_).substr(span.offset, span.length);
}

void RankTable::require_all_bytes() const {
  for (unsigned b = 0; b < 256; ++b) {
    const unsigned char byte = static_cast<unsigned char>(b);
    if (find(&byte, 1) == kNoRank) {
      throw Error(Status::format, "rank file: byte " + std::to_string(b) +
                                      " has no rank; a byte-level BPE needs all 256");
    }
  }
}

}  // namespace parley::budget
