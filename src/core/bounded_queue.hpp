// A bounded multi-producer, multi-consumer queue for records handed to host code (events,
// log lines). Producers never block: when the queue is full, push() refuses and counts the
// record as dropped, so an engine thread can never be held up by a slow host.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace parley::core {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  /// Appends `item` unless the queue is full or closed; returns whether it was taken.
  bool push(T item) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) {
        ++dropped_;
        return false;
      }
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
    return true;
  }

  /// Waits up to `timeout` (negative: forever) for an item. Empty when the time ran out
  /// or the queue was closed and drained.
  std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    auto has_item = [&] { return !items_.empty() || closed_; };
    if (timeout.count() < 0) {
      ready_.wait(lock, has_item);
    } else if (!ready_.wait_for(lock, timeout, has_item)) {
      return std::nullopt;
    }
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  /// Wakes every waiter; later pushes are refused, queued items can still be popped.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  /// Accepts pushes again after close().
  void reopen() {
    std::lock_guard lock(mutex_);
    closed_ = false;
  }

  /// Returns and resets the count of refused pushes.
  uint64_t take_dropped() {
    std::lock_guard lock(mutex_);
    return std::exchange(dropped_, 0);
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> items_;
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace parley::core
