// The runtime's registry of live sessions, with concurrency caps. Touched when a call
// starts or ends and when a host looks a session up — never per audio frame.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley::core {

class Session;

class SessionManager {
 public:
  /// `max_sessions` caps the whole runtime.
  explicit SessionManager(size_t max_sessions) : max_sessions_(max_sessions) {}

  /// Registers `session` unless the runtime cap or `listener_cap` (sessions of this
  /// listener; 0 = no listener cap) is reached. Returns whether it was admitted.
  bool admit(const std::shared_ptr<Session> &session, const std::string &listener_id, size_t listener_cap);
  void remove(const std::string &session_id);
  std::shared_ptr<Session> find(const std::string &session_id) const;
  std::vector<std::shared_ptr<Session>> sessions_of(const std::string &listener_id) const;
  size_t count() const;
  size_t count_of(const std::string &listener_id) const;
  /// Drops every session (the runtime's teardown), without waiting for any to end.
  void clear();
  /// Waits until `listener_id` (empty: all listeners) has no sessions; false on timeout.
  bool wait_until_empty(const std::string &listener_id, std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    std::string listener_id;
  };
  size_t count_of_locked(const std::string &listener_id) const;

  const size_t max_sessions_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, Entry, std::less<>> sessions_;
};

}  // namespace parley::core
