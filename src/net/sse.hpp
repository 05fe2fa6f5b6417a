// A streaming parser for Server-Sent Events (the WHATWG text/event-stream format): bytes go
// in as they arrive, complete events come out. Lines end in LF, CRLF or CR; "data:" lines
// of one event are joined with LF; comments (":...") and unknown fields are ignored, as the
// format requires.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::net {

struct SseEvent {
  std::string_view event;  // "" when the event had no "event:" line
  std::string_view data;
  std::string_view id;
};

class SseParser {
 public:
  /// `max_event_bytes` bounds one event (and one line): a peer cannot grow memory forever.
  explicit SseParser(size_t max_event_bytes = 4 * 1024 * 1024) : max_event_bytes_(max_event_bytes) {}

  /// Parses `bytes`, calling `on_event(const SseEvent &)` for each complete event; the
  /// views are valid only during the call. Throws Error(Status::format) when an event or
  /// line exceeds the bound.
  template <typename OnEvent>
  void feed(std::string_view bytes, OnEvent &&on_event) {
    while (!bytes.empty()) {
      std::string_view line;
      if (!next_line(bytes, line)) return;
      if (line.empty()) {
        if (has_data_) {
          on_event(SseEvent{event_, data_, id_});
        }
        reset_event();
      } else {
        field(line);
      }
    }
  }

  /// Bytes held for an unfinished line or event (for tests and bounds).
  size_t buffered() const noexcept { return partial_.size() + data_.size(); }

 private:
  bool next_line(std::string_view &bytes, std::string_view &line);
  void field(std::string_view line);
  void reset_event();

  size_t max_event_bytes_;
  std::string partial_;  // an unfinished line carried over from the previous feed
  std::string line_;     // the current line when it spans feeds
  bool skip_lf_ = false; // the previous chunk ended in CR: a leading LF belongs to it
  bool has_data_ = false;
  std::string data_;
  std::string event_;
  std::string id_;
};

}  // namespace parley::net
