#include "net/sse.hpp"

#include <cstring>

#include "common/error.hpp"

namespace parley::net {

// Takes the next complete line off `bytes`. A line split across feeds is assembled in
// partial_; the common case (whole lines inside one chunk) is a view into the input.
bool SseParser::next_line(std::string_view &bytes, std::string_view &line) {
  if (skip_lf_) {
    skip_lf_ = false;
    if (bytes.front() == '\n') {
      bytes.remove_prefix(1);
      if (bytes.empty()) return false;
    }
  }
  const char *begin = bytes.data();
  const char *end = begin + bytes.size();
  const char *eol = begin;
  while (eol < end && *eol != '\n' && *eol != '\r') {
    const void *lf = std::memchr(eol, '\n', static_cast<size_t>(end - eol));
    const char *stop = lf ? static_cast<const char *>(lf) : end;
    const void *cr = std::memchr(eol, '\r', static_cast<size_t>(stop - eol));
    eol = cr ? static_cast<const char *>(cr) : stop;
  }
  if (eol == end) {
    if (partial_.size() + bytes.size() > max_event_bytes_)
      throw Error(Status::format, "SSE line longer than " + std::to_string(max_event_bytes_) + " bytes");
    partial_.append(bytes);
    bytes = {};
    return false;
  }
  const size_t length = static_cast<size_t>(eol - begin);
  if (*eol == '\r') {
    if (eol + 1 < end && eol[1] == '\n') {
      ++eol;
    } else if (eol + 1 == end) {
      skip_lf_ = true;
    }
  }
  bytes.remove_prefix(static_cast<size_t>(eol - begin) + 1);
  if (partial_.empty()) {
    line = std::string_view(begin, length);
  } else {
    partial_.append(begin, length);
    line_.swap(partial_);
    partial_.clear();
    line = line_;
  }
  return true;
}

void SseParser::field(std::string_view line) {
  if (line.front() == ':') return;  // a comment (keep-alive)
  std::string_view name = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_)
      throw Error(Status::format, "SSE event larger than " + std::to_string(max_event_bytes_) + " bytes");
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void SseParser::reset_event() {
  has_data_ = false;
  data_.clear();
  event_.clear();
}

}  // namespace parley::net
