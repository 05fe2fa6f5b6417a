// Fixed-capacity sample rings. Storage is allocated once in the constructor; nothing
// allocates afterwards. T is a trivially copyable sample type (int16_t for PCM16, uint8_t for
// G.711 codes).
//
// RingBuffer: single-threaded, with an overflow policy chosen at construction.
// SpscRing: one producer thread and one consumer thread, lock-free. It can only reject on
// overflow: dropping the oldest samples would mean the producer moving the consumer's read
// position under it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include "common/error.hpp"

namespace parley::audio {

enum class OverflowPolicy {
  reject,            ///< a write takes what fits and reports the count; the rest is dropped
  overwrite_oldest,  ///< a write always succeeds; the oldest samples make room and are dropped
};

namespace ring_detail {

inline void require_capacity(const char *type, size_t capacity) {
  if (capacity == 0) throw Error(Status::invalid_argument, std::string(type) + ": capacity must be at least 1");
}

// Copies `count` elements starting at logical index `start` of a circular array into `out`.
template <typename T>
void copy_out(const T *storage, size_t capacity, size_t start, T *out, size_t count) noexcept {
  const size_t first = std::min(count, capacity - start);
  std::copy_n(storage + start, first, out);
  std::copy_n(storage, count - first, out + first);
}

// Copies `count` elements from `in` into a circular array from logical index `start` on.
template <typename T>
void copy_in(T *storage, size_t capacity, size_t start, const T *in, size_t count) noexcept {
  const size_t first = std::min(count, capacity - start);
  std::copy_n(in, first, storage + start);
  std::copy_n(in + first, count - first, storage);
}

}  // namespace ring_detail

template <typename T>
class RingBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  RingBuffer(size_t capacity, OverflowPolicy policy) : capacity_(capacity), policy_(policy) {
    ring_detail::require_capacity("RingBuffer", capacity);
    storage_ = std::make_unique<T[]>(capacity);
  }

  /// Appends `in`. Returns how many samples were stored: with reject, min(in.size(),
  /// free_space()); with overwrite_oldest, always in.size() (of a write longer than the
  /// capacity only the newest `capacity()` samples survive). Losses add to dropped().
  size_t write(std::span<const T> in) noexcept {
    if (policy_ == OverflowPolicy::reject) {
      const size_t accepted = std::min(in.size(), free_space());
      dropped_ += in.size() - accepted;
      append(in.first(accepted));
      return accepted;
    }
    const std::span<const T> kept = in.size() > capacity_ ? in.last(capacity_) : in;
    const size_t overflow = size_ + kept.size() > capacity_ ? size_ + kept.size() - capacity_ : 0;
    dropped_ += (in.size() - kept.size()) + overflow;
    skip(overflow);
    append(kept);
    return in.size();
  }

  /// Moves up to out.size() of the oldest samples into `out`; returns the count.
  size_t read(std::span<T> out) noexcept { return skip(peek(out)); }

  /// Copies up to out.size() of the oldest samples into `out` without removing them.
  size_t peek(std::span<T> out) const noexcept {
    const size_t count = std::min(out.size(), size_);
    ring_detail::copy_out(storage_.get(), capacity_, read_index_, out.data(), count);
    return count;
  }

  /// Removes up to `count` of the oldest samples; returns how many were removed.
  size_t discard(size_t count) noexcept { return skip(std::min(count, size_)); }

  void clear() noexcept { skip(size_); }

  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return capacity_; }
  size_t free_space() const noexcept { return capacity_ - size_; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }
  OverflowPolicy policy() const noexcept { return policy_; }

  /// Samples lost to the overflow policy since construction (rejected or overwritten).
  uint64_t dropped() const noexcept { return dropped_; }

 private:
  void append(std::span<const T> in) noexcept {
    ring_detail::copy_in(storage_.get(), capacity_, (read_index_ + size_) % capacity_, in.data(), in.size());
    size_ += in.size();
  }

  size_t skip(size_t count) noexcept {
    read_index_ = (read_index_ + count) % capacity_;
    size_ -= count;
    return count;
  }

  size_t capacity_;
  OverflowPolicy policy_;
  std::unique_ptr<T[]> storage_;
  size_t read_index_ = 0;
  size_t size_ = 0;
  uint64_t dropped_ = 0;
};

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit SpscRing(size_t capacity) : capacity_(capacity) {
    ring_detail::require_capacity("SpscRing", capacity);
    storage_ = std::make_unique<T[]>(capacity);
  }

  // --- producer thread only ---

  /// Appends what fits of `in`; returns the count stored (the rest is the caller's to drop).
  size_t write(std::span<const T> in) noexcept {
    const uint64_t written = written_.load(std::memory_order_relaxed);
    // Acquire: the consumer has finished copying out every slot it released.
    const uint64_t read = read_.load(std::memory_order_acquire);
    const size_t count = std::min(in.size(), capacity_ - static_cast<size_t>(written - read));
    ring_detail::copy_in(storage_.get(), capacity_, static_cast<size_t>(written % capacity_), in.data(), count);
    // Release: the samples are in place before the consumer can see the new count.
    written_.store(written + count, std::memory_order_release);
    return count;
  }

  size_t free_space() const noexcept { return capacity_ - size(); }

  // --- consumer thread only ---

  /// Moves up to out.size() of the oldest samples into `out`; returns the count.
  size_t read(std::span<T> out) noexcept { return release(peek(out)); }

  /// Copies up to out.size() of the oldest samples into `out` without removing them.
  size_t peek(std::span<T> out) const noexcept {
    const uint64_t read = read_.load(std::memory_order_relaxed);
    // Acquire: pairs with the producer's release, so the samples counted are visible.
    const uint64_t written = written_.load(std::memory_order_acquire);
    const size_t count = std::min(out.size(), static_cast<size_t>(written - read));
    ring_detail::copy_out(storage_.get(), capacity_, static_cast<size_t>(read % capacity_), out.data(), count);
    return count;
  }

  /// Removes up to `count` of the oldest samples; returns how many were removed.
  size_t discard(size_t count) noexcept { return release(std::min(count, size())); }

  // --- either thread (a snapshot; the other side may change it at once) ---

  size_t size() const noexcept {
    const uint64_t read = read_.load(std::memory_order_acquire);
    return static_cast<size_t>(written_.load(std::memory_order_acquire) - read);
  }
  bool empty() const noexcept { return size() == 0; }
  size_t capacity() const noexcept { return capacity_; }

 private:
  size_t release(size_t count) noexcept {
    // Release: our copies out of these slots are done before the producer may reuse them.
    read_.store(read_.load(std::memory_order_relaxed) + count, std::memory_order_release);
    return count;
  }

  const size_t capacity_;
  std::unique_ptr<T[]> storage_;
  // Running totals (never wrap in practice: 2^64 samples). Each on its own cache line so
  // the two threads do not invalidate each other's line on every update.
  alignas(64) std::atomic<uint64_t> written_{0};
  alignas(64) std::atomic<uint64_t> read_{0};
};

using SampleRing = RingBuffer<int16_t>;
using SpscSampleRing = SpscRing<int16_t>;

}  // namespace parley::audio
