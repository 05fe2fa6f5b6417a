// libcurl's multi-socket interface on an Asio loop, after curl's own asiohiper example:
// curl says which sockets it wants watched (socket callback) and when it next needs a tick
// (timer callback); Asio waits and calls curl_multi_socket_action. Everything touching the
// multi handle runs on the client's io_context thread; user callbacks are posted to each
// request's executor.
#include "net/http_client.hpp"

#include <curl/curl.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/error.hpp"

namespace parley::net {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error(Status::internal, "http client: curl_global_init failed");
  });
}

HttpFailure failure_of(CURLcode code, bool connected) {
  switch (code) {
    case CURLE_OK: return HttpFailure::none;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return HttpFailure::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return connected ? HttpFailure::timeout_total : HttpFailure::timeout_connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return HttpFailure::tls;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WRITE_ERROR: return HttpFailure::cut;
    case CURLE_ABORTED_BY_CALLBACK: return HttpFailure::cancelled;
    default: return HttpFailure::other;
  }
}

}  // namespace

std::string_view find_header(const HttpHeaders &headers, std::string_view name) {
  for (const auto &[key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

const char *http_failure_name(HttpFailure failure) noexcept {
  switch (failure) {
    case HttpFailure::none: return "none";
    case HttpFailure::connect: return "connect";
    case HttpFailure::tls: return "tls";
    case HttpFailure::timeout_connect: return "timeout_connect";
    case HttpFailure::timeout_first_byte: return "timeout_first_byte";
    case HttpFailure::timeout_idle: return "timeout_idle";
    case HttpFailure::timeout_total: return "timeout_total";
    case HttpFailure::cut: return "cut";
    case HttpFailure::cancelled: return "cancelled";
    case HttpFailure::other: return "other";
  }
  return "unknown";
}

// Body pieces in one buffer: the bytes back to back and where each piece ends. Cleared,
// it keeps its capacity.
class Pieces {
 public:
  void add(const char *data, size_t size) {
    bytes_.append(data, size);
    ends_.push_back(bytes_.size());
  }
  void append(const Pieces &other) {
    const size_t base = bytes_.size();
    bytes_.append(other.bytes_);
    for (const size_t end : other.ends_) ends_.push_back(base + end);
  }
  size_t count() const noexcept { return ends_.size(); }
  std::string_view piece(size_t i) const noexcept {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  bool empty() const noexcept { return ends_.empty(); }
  void clear() noexcept {
    bytes_.clear();
    ends_.clear();
  }
  void swap(Pieces &other) noexcept {
    bytes_.swap(other.bytes_);
    ends_.swap(other.ends_);
  }

 private:
  std::string bytes_;
  std::vector<size_t> ends_;
};

// One request. Fields below `io-thread state` are touched only on the client's loop; the
// mailbox is shared with the request's executor under its mutex; `delivering` belongs to
// the executor.
//
// Delivery: whatever curl hands over during one socket action (head, body pieces, the end)
// is staged here, then moved into the mailbox once curl_multi_socket_action has returned,
// and at most one drain per transfer is scheduled on the executor at a time. A drain takes
// everything the mailbox holds and delivers it in order - head, each body piece as curl
// cut it (one per HTTP chunk), completion - so one executor turn serves all that arrived
// together. Body bytes are copied once, out of curl's buffer; the three body buffers
// (staged, mailbox, delivering) are swapped, never reallocated, once they have grown.
//
// The drain is dispatched, not posted: it runs at once when the client's own handler is
// already on the executor's thread and the executor is free (the usual case, where a
// session's strand lives on the client's loop), else it is queued there as a post would be.
// Either way it runs from one of the client's loop handlers - a socket, a timer, a request
// being added - never from inside start() or cancel(), so no callback runs inside the call
// that caused it; and a drain found already scheduled keeps the order.
struct Transfer : std::enable_shared_from_this<Transfer> {
  Transfer(asio::io_context &io, HttpRequest req, HttpCallbacks cb, asio::any_io_executor exec)
      : request(std::move(req)), callbacks(std::move(cb)), executor(std::move(exec)), timer(io) {}

  HttpRequest request;
  HttpCallbacks callbacks;
  asio::any_io_executor executor;
  std::atomic<bool> cancelled{false};

  // io-thread state
  HttpClient::Impl *owner = nullptr;  // set when the client adds the transfer
  CURL *easy = nullptr;
  curl_slist *header_list = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  asio::steady_timer timer;
  Clock::time_point started;
  Clock::time_point last_byte;
  bool got_first_byte = false;
  bool head_sent = false;
  bool finished = false;
  bool dirty = false;  // has staged output, listed in Impl::dirty
  HttpFailure forced_failure = HttpFailure::none;  // a timeout we enforced ourselves
  HttpResponseHead head;
  bool staged_head = false;
  Pieces staged_body;
  std::optional<HttpResult> staged_result;

  // shared with the executor
  struct Mailbox {
    std::optional<HttpResponseHead> head;
    Pieces body;
    std::optional<HttpResult> result;
    bool scheduled = false;  // a drain is on its way and will look at the mailbox
  };
  std::mutex mutex;
  Mailbox mailbox;

  // executor state
  Pieces delivering;

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
    if (easy) curl_easy_cleanup(easy);
  }

  void send_head() {
    if (head_sent) return;
    head_sent = true;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    head.status = static_cast<int>(status);
    staged_head = true;  // whether anyone wants it is the executor's to know
  }

  void note_byte(Clock::time_point now) {
    last_byte = now;
    got_first_byte = true;
  }

  // On the loop, outside curl: hands the staged output to the executor (with a post when
  // `defer`: the caller may be inside that executor, in HttpClient::start).
  void flush(bool defer) {
    dirty = false;
    if (!live()) {  // nothing may be delivered any more
      staged_head = false;
      staged_body.clear();
      staged_result.reset();
      return;
    }
    if (!staged_head && staged_body.empty() && !staged_result) return;
    bool schedule = false;
    {
      std::lock_guard lock(mutex);
      if (staged_head) mailbox.head = head;
      if (mailbox.body.empty()) {
        mailbox.body.swap(staged_body);  // staged_body takes the mailbox's empty buffers
      } else {
        mailbox.body.append(staged_body);  // the executor is behind
      }
      if (staged_result) mailbox.result = std::move(staged_result);
      schedule = !std::exchange(mailbox.scheduled, true);
    }
    staged_head = false;
    staged_body.clear();
    staged_result.reset();
    if (!schedule) return;
    if (defer) {
      asio::post(executor, [self = shared_from_this()] { self->drain(); });
    } else {
      asio::dispatch(executor, [self = shared_from_this()] { self->drain(); });
    }
  }

  // On the executor: delivers what the mailbox holds, until it is found empty.
  void drain() {
    for (;;) {
      std::optional<HttpResponseHead> head_out;
      std::optional<HttpResult> result_out;
      {
        std::lock_guard lock(mutex);
        if (!mailbox.head && mailbox.body.empty() && !mailbox.result) {
          mailbox.scheduled = false;
          return;
        }
        head_out = std::move(mailbox.head);
        mailbox.head.reset();
        delivering.swap(mailbox.body);  // the mailbox keeps the (empty) buffers delivered last
        result_out = std::move(mailbox.result);
        mailbox.result.reset();
      }
      // A callback that throws leaves the mailbox to the next drain instead of stranding it.
      struct Unschedule {
        Transfer *t;
        int exceptions = std::uncaught_exceptions();
        ~Unschedule() {
          t->delivering.clear();
          if (std::uncaught_exceptions() > exceptions) {
            std::lock_guard lock(t->mutex);
            t->mailbox.scheduled = false;
          }
        }
      } unschedule{this};
      if (head_out && live() && callbacks.on_head) callbacks.on_head(*head_out);
      for (size_t i = 0; i < delivering.count() && live() && callbacks.on_body; ++i) {
        callbacks.on_body(delivering.piece(i));
      }
      if (result_out && live()) {
        // The callbacks often own the request's handle (and so this transfer): dropping
        // them once the last one has run breaks that cycle.
        auto callbacks_out = std::move(callbacks);
        callbacks = HttpCallbacks{};
        if (callbacks_out.on_complete) callbacks_out.on_complete(*result_out);
      }
    }
  }

  bool live() const noexcept { return !cancelled.load(std::memory_order_acquire); }
};

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    int wanted = 0;
    bool reading = false;
    bool writing = false;
    bool removed = false;
  };

  Impl(asio::io_context &io_context, Options opts) : io(io_context), timer(io_context), options(opts) {
    ensure_curl_initialised();
    multi = curl_multi_init();
    if (!multi) throw Error(Status::no_memory, "http client: curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options.max_connections_per_host));
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(options.max_total_connections));
  }

  ~Impl() {
    for (auto &transfer : transfers) {
      transfer->cancelled.store(true, std::memory_order_release);
      curl_multi_remove_handle(multi, transfer->easy);
      transfer->timer.cancel();
      transfer->callbacks = HttpCallbacks{};
    }
    transfers.clear();
    for (auto &[fd, watch] : watches) release(*watch);
    watches.clear();
    curl_multi_cleanup(multi);
  }

  asio::io_context &io;
  asio::steady_timer timer;
  Options options;
  CURLM *multi = nullptr;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches;
  std::unordered_set<std::shared_ptr<Transfer>> transfers;
  std::vector<std::shared_ptr<Transfer>> dirty;  // transfers with staged output
  Clock::time_point action_time;  // when the current socket action started
  bool kick_posted = false;       // a "now" timeout is on its way
  bool adding = false;            // inside curl_multi_add_handle (see add())
  bool defer_delivery = false;    // inside HttpClient::start: callbacks are posted, never run
  bool kick_after_add = false;    // curl asked for "now" while adding
  std::atomic<size_t> active{0};

  // --- curl callbacks (run inside curl_multi_socket_action, on the loop) ---

  static int on_socket(CURL *, curl_socket_t fd, int what, void *user, void *) {
    auto *self = static_cast<Impl *>(user);
    if (what == CURL_POLL_REMOVE) {
      self->forget(fd);
    } else {
      auto &watch = self->watches[fd];
      if (!watch) {
        watch = std::make_shared<Watch>();
        watch->descriptor = std::make_unique<asio::posix::stream_descriptor>(self->io, fd);
      }
      watch->wanted = what;
      self->arm(fd, watch);
    }
    return 0;
  }

  static int on_timer(CURLM *, long timeout_ms, void *user) {
    auto *self = static_cast<Impl *>(user);
    if (timeout_ms < 0) {
      self->timer.cancel();
      return 0;
    }
    // curl forbids calling socket_action from inside this callback, so even "now" waits
    // for the next loop turn: a post, which costs no timer (curl asks for "now" on every
    // request it is given; arming the timerfd for it is a syscall, and another to re-arm).
    if (timeout_ms == 0) {
      self->timer.cancel();
      if (self->adding) {
        self->kick_after_add = true;  // add() acts on it once curl has returned
        return 0;
      }
      if (!self->kick_posted) {
        self->kick_posted = true;
        asio::post(self->io, [weak = self->weak_from_this()] {
          auto impl = weak.lock();
          if (!impl) return;
          impl->kick_posted = false;
          impl->socket_action(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return 0;
    }
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([weak = self->weak_from_this()](boost::system::error_code ec) {
      auto impl = weak.lock();
      if (ec || !impl) return;
      impl->socket_action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  // Curl closes its sockets itself; the descriptor must let go of the fd first, or Asio
  // would close it twice (or close a reused number).
  static int on_close_socket(void *user, curl_socket_t fd) {
    static_cast<Impl *>(user)->forget(fd);
    return ::close(fd);
  }

  void forget(curl_socket_t fd) {
    auto it = watches.find(fd);
    if (it == watches.end()) return;
    release(*it->second);
    watches.erase(it);
  }

  static void release(Watch &watch) {
    watch.removed = true;
    if (watch.descriptor) {
      boost::system::error_code ignored;
      watch.descriptor->cancel(ignored);
      watch.descriptor->release();
    }
  }

  void arm(curl_socket_t fd, const std::shared_ptr<Watch> &watch) {
    if ((watch->wanted & CURL_POLL_IN) && !watch->reading) {
      watch->reading = true;
      watch->descriptor->async_wait(asio::posix::stream_descriptor::wait_read,
                                    Ready{weak_from_this(), watch, fd, CURL_CSELECT_IN});
    }
    if ((watch->wanted & CURL_POLL_OUT) && !watch->writing) {
      watch->writing = true;
      watch->descriptor->async_wait(asio::posix::stream_descriptor::wait_write,
                                    Ready{weak_from_this(), watch, fd, CURL_CSELECT_OUT});
    }
  }

  // A socket is ready (a plain struct, not a std::function: no allocation per wait).
  struct Ready {
    std::weak_ptr<Impl> weak;
    std::shared_ptr<Watch> watch;
    curl_socket_t fd;
    int direction;

    void operator()(boost::system::error_code ec) const {
      (direction == CURL_CSELECT_IN ? watch->reading : watch->writing) = false;
      auto impl = weak.lock();
      if (!impl || watch->removed) return;
      impl->socket_action(fd, ec ? CURL_CSELECT_ERR : direction, [&] {
        if (!watch->removed) impl->arm(fd, watch);
      });
    }
  };

  // Lets curl act on `fd` (or its timers), re-arms through `rearm`, then hands what the
  // transfers produced to their executors - last, so that a callback run at once finds the
  // client's own state settled.
  template <typename Rearm>
  void socket_action(curl_socket_t fd, int mask, Rearm &&rearm) {
    int running = 0;
    action_time = Clock::now();
    curl_multi_socket_action(multi, fd, mask, &running);
    collect_finished();
    rearm();
    flush_dirty();
  }
  void socket_action(curl_socket_t fd, int mask) {
    socket_action(fd, mask, [] {});
  }

  void collect_finished() {
    int pending = 0;
    while (CURLMsg *message = curl_multi_info_read(multi, &pending)) {
      if (message->msg != CURLMSG_DONE) continue;
      Transfer *raw = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
      finish(raw->shared_from_this(), message->data.result);
    }
  }

  void mark_dirty(Transfer &t) {
    if (t.dirty) return;
    t.dirty = true;
    dirty.push_back(t.shared_from_this());
  }

  void flush_dirty() {
    if (dirty.empty()) return;
    // A callback run from a flush may start or cancel requests: those only post to this
    // loop, so the list cannot change under the loop below; it is swapped out anyway.
    std::vector<std::shared_ptr<Transfer>> batch;
    batch.swap(dirty);
    for (auto &transfer : batch) transfer->flush(defer_delivery);
    batch.clear();
    if (dirty.empty()) dirty.swap(batch);  // keep the capacity
  }

  // --- transfers ---

  void add(const std::shared_ptr<Transfer> &transfer) {
    if (transfer->cancelled.load(std::memory_order_acquire)) return;
    try {
      configure(*transfer);
    } catch (const std::exception &e) {
      complete(*transfer, HttpFailure::other, e.what());
      flush_dirty();
      return;
    }
    transfer->started = Clock::now();
    transfers.insert(transfer);
    active.fetch_add(1, std::memory_order_relaxed);
    adding = true;
    CURLMcode rc = curl_multi_add_handle(multi, transfer->easy);
    adding = false;
    if (rc != CURLM_OK) {
      transfers.erase(transfer);
      active.fetch_sub(1, std::memory_order_relaxed);
      complete(*transfer, HttpFailure::other, curl_multi_strerror(rc));
      flush_dirty();
      return;
    }
    watch_deadline(transfer, std::min(first_deadline(*transfer), transfer->started + transfer->request.idle_timeout));
    // Curl asks for "now" on every handle it is given. We are in a handler of our own, not
    // in a curl callback, so the request can go out at once: a post would queue it behind
    // everything the loop has ready (a burst of calls' audio frames), once more per request.
    if (std::exchange(kick_after_add, false)) socket_action(CURL_SOCKET_TIMEOUT, 0);
  }

  void configure(Transfer &t) {
    t.owner = this;
    const HttpRequest &r = t.request;
    t.easy = curl_easy_init();
    if (!t.easy) throw Error(Status::no_memory, "http client: curl_easy_init failed");
    CURL *e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
    if (r.total_timeout.count() > 0)
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    set_method(t);
    bool has_expect = false;
    for (const auto &[name, value] : r.headers) {
      has_expect = has_expect || iequals(name, "expect");
      t.header_list = curl_slist_append(t.header_list, (name + ": " + value).c_str());
    }
    // Without this curl waits up to a second for "100 Continue" before a large body.
    if (!has_expect) t.header_list = curl_slist_append(t.header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
  }

  static void set_method(Transfer &t) {
    CURL *e = t.easy;
    const HttpRequest &r = t.request;
    if (r.method == "GET" && r.body.empty()) return;
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
      return;
    }
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  static size_t on_header(char *data, size_t size, size_t count, void *user) {
    auto &t = *static_cast<Transfer *>(user);
    const size_t bytes = size * count;
    std::string_view line(data, bytes);
    t.note_byte(t.owner->action_time);
    if (line.rfind("HTTP/", 0) == 0) {
      t.head.headers.clear();  // a new status line: 100 Continue or a redirect came first
      return bytes;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      t.head.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1))));
    }
    return bytes;
  }

  // Body bytes are staged; the whole socket action's worth goes out in one drain.
  static size_t on_write(char *data, size_t size, size_t count, void *user) {
    auto &t = *static_cast<Transfer *>(user);
    const size_t bytes = size * count;
    if (t.cancelled.load(std::memory_order_relaxed)) return CURL_WRITEFUNC_ERROR;
    Impl &self = *t.owner;
    t.note_byte(self.action_time);
    t.send_head();
    if (bytes > 0) t.staged_body.add(data, bytes);
    self.mark_dirty(t);
    return bytes;
  }

  // First byte and idle timeouts are ours (curl has only whole-second low-speed limits).
  // One timer per transfer, re-armed lazily when it fires instead of on every chunk.
  static Clock::time_point first_deadline(const Transfer &t) {
    return t.started + t.request.first_byte_timeout;
  }

  static Clock::time_point current_deadline(const Transfer &t) {
    return t.got_first_byte ? t.last_byte + t.request.idle_timeout : first_deadline(t);
  }

  void watch_deadline(const std::shared_ptr<Transfer> &transfer, Clock::time_point deadline) {
    transfer->timer.expires_at(deadline);
    transfer->timer.async_wait([weak = weak_from_this(), transfer](boost::system::error_code ec) {
      auto impl = weak.lock();
      if (ec || !impl || transfer->finished) return;
      const auto next = current_deadline(*transfer);
      const auto now = Clock::now();
      if (now < next) {
        // Wake again no later than one idle period from now: the first byte may arrive
        // meanwhile and bring the (shorter) idle deadline into force.
        impl->watch_deadline(transfer, std::min(next, now + transfer->request.idle_timeout));
        return;
      }
      transfer->forced_failure =
          transfer->got_first_byte ? HttpFailure::timeout_idle : HttpFailure::timeout_first_byte;
      impl->finish(transfer, CURLE_OPERATION_TIMEDOUT);
      impl->flush_dirty();
    });
  }

  void finish(const std::shared_ptr<Transfer> &transfer, CURLcode code) {
    if (transfer->finished) return;
    transfer->finished = true;
    transfer->timer.cancel();
    curl_multi_remove_handle(multi, transfer->easy);
    transfers.erase(transfer);
    active.fetch_sub(1, std::memory_order_relaxed);
    if (transfer->cancelled.load(std::memory_order_acquire)) return;

    HttpFailure failure = transfer->forced_failure;
    std::string message;
    if (failure == HttpFailure::none) {
      curl_off_t connect_us = 0;
      curl_easy_getinfo(transfer->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
      failure = failure_of(code, connect_us > 0 || transfer->got_first_byte);
      if (failure != HttpFailure::none) {
        message = transfer->error_buffer[0] ? transfer->error_buffer : curl_easy_strerror(code);
      }
    } else {
      message = failure == HttpFailure::timeout_idle
                    ? "no data for " + std::to_string(transfer->request.idle_timeout.count()) + " ms"
                    : "no response within " +
                          std::to_string(transfer->request.first_byte_timeout.count()) + " ms";
    }
    if (failure == HttpFailure::none || transfer->got_first_byte) transfer->send_head();
    complete(*transfer, failure, std::move(message));
  }

  void complete(Transfer &t, HttpFailure failure, std::string message) {
    HttpResult result;
    result.failure = failure;
    result.message = std::move(message);
    result.status = t.head_sent ? t.head.status : 0;
    result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t.started);
    if (t.got_first_byte) {
      double seconds = 0;
      curl_easy_getinfo(t.easy, CURLINFO_STARTTRANSFER_TIME, &seconds);
      result.time_to_first_byte = std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
    }
    t.staged_result = std::move(result);
    mark_dirty(t);
  }

  void cancel(const std::shared_ptr<Transfer> &transfer) {
    if (transfer->finished) return;
    transfer->finished = true;
    transfer->timer.cancel();
    if (transfer->easy) curl_multi_remove_handle(multi, transfer->easy);
    if (transfers.erase(transfer) > 0) active.fetch_sub(1, std::memory_order_relaxed);
  }
};

namespace {

class CallHandle final : public HttpCall {
 public:
  CallHandle(std::weak_ptr<HttpClient::Impl> client, std::shared_ptr<Transfer> transfer)
      : client_(std::move(client)), transfer_(std::move(transfer)) {}
  ~CallHandle() override {
    if (!detached_) cancel();
  }

  void cancel() override {
    if (transfer_->cancelled.exchange(true, std::memory_order_acq_rel)) return;
    drop_callbacks();
    auto client = client_.lock();
    if (!client) return;
    asio::post(client->io, [client, transfer = transfer_] { client->cancel(transfer); });
  }

  void detach() override {
    if (std::exchange(detached_, true)) return;
    drop_callbacks();
  }

 private:
  // Dropped on the executor, where deliveries run, so none is reading them meanwhile; the
  // callbacks may own this handle's owner, and keeping them would be a cycle.
  void drop_callbacks() {
    asio::post(transfer_->executor, [transfer = transfer_] { transfer->callbacks = HttpCallbacks{}; });
  }

  bool detached_ = false;
  std::weak_ptr<HttpClient::Impl> client_;
  std::shared_ptr<Transfer> transfer_;
};

}  // namespace

HttpClient::HttpClient(asio::io_context &io, Options options)
    : impl_(std::make_shared<Impl>(io, options)) {}
HttpClient::HttpClient(asio::io_context &io) : HttpClient(io, Options{}) {}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpCall> HttpClient::start(HttpRequest request, HttpCallbacks callbacks,
                                            asio::any_io_executor executor) {
  auto transfer = std::make_shared<Transfer>(impl_->io, std::move(request), std::move(callbacks),
                                             std::move(executor));
  auto handle = std::make_unique<CallHandle>(impl_, transfer);
  if (impl_->io.get_executor().running_in_this_thread()) {
    // Already on the client's loop (an agent whose call shares it): the request goes out now
    // rather than after everything the loop has queued. Nothing is delivered from in here:
    // the caller has not even got its handle yet.
    impl_->defer_delivery = true;
    impl_->add(transfer);
    impl_->defer_delivery = false;
  } else {
    asio::post(impl_->io, [impl = std::weak_ptr<Impl>(impl_), transfer] {
      if (auto client = impl.lock()) client->add(transfer);
    });
  }
  return handle;
}

size_t HttpClient::active() const noexcept { return impl_->active.load(std::memory_order_relaxed); }

}  // namespace parley::net
