// Drains a BoundedQueue on a thread of its own and hands each item to a callback, so host
// callbacks never run on an engine IO thread. Stopping closes the queue, delivers what was
// already queued, and joins.
#pragma once

#include <functional>
#include <thread>

#include "core/bounded_queue.hpp"

namespace parley::core {

template <typename T>
class Dispatcher {
 public:
  using Handler = std::function<void(T)>;

  Dispatcher(BoundedQueue<T> &queue, Handler handler)
      : queue_(queue), handler_(std::move(handler)), thread_([this] { run(); }) {}

  ~Dispatcher() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }

  Dispatcher(const Dispatcher &) = delete;
  Dispatcher &operator=(const Dispatcher &) = delete;

  bool on_dispatcher_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void run() {
    while (auto item = queue_.pop(std::chrono::milliseconds(-1))) {
      handler_(std::move(*item));
    }
  }

  BoundedQueue<T> &queue_;
  Handler handler_;
  std::thread thread_;
};

}  // namespace parley::core
