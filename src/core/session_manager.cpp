#include "core/session_manager.hpp"

#include "core/session.hpp"

namespace parley::core {

bool SessionManager::admit(const std::shared_ptr<Session> &session, const std::string &listener_id,
                           size_t listener_cap) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) return false;
  if (listener_cap > 0 && count_of_locked(listener_id) >= listener_cap) return false;
  sessions_.emplace(session->id(), Entry{session, listener_id});
  return true;
}

void SessionManager::remove(const std::string &session_id) {
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(session_id);
  }
  changed_.notify_all();
}

void SessionManager::clear() {
  std::map<std::string, Entry, std::less<>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(sessions_);
  }
  changed_.notify_all();
}  // the sessions go here, outside the lock

std::shared_ptr<Session> SessionManager::find(const std::string &session_id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second.session;
}

std::vector<std::shared_ptr<Session>> SessionManager::sessions_of(const std::string &listener_id) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Session>> result;
  for (const auto &[id, entry] : sessions_) {
    if (listener_id.empty() || entry.listener_id == listener_id) result.push_back(entry.session);
  }
  return result;
}

size_t SessionManager::count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

size_t SessionManager::count_of(const std::string &listener_id) const {
  std::lock_guard lock(mutex_);
  return count_of_locked(listener_id);
}

size_t SessionManager::count_of_locked(const std::string &listener_id) const {
  size_t n = 0;
  for (const auto &[id, entry] : sessions_) n += entry.listener_id == listener_id ? 1 : 0;
  return n;
}

bool SessionManager::wait_until_empty(const std::string &listener_id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return listener_id.empty() ? sessions_.empty() : count_of_locked(listener_id) == 0;
  });
}

}  // namespace parley::core
