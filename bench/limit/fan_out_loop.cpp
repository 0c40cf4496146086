// cablecast-limit: the smallest fan-out server this machine allows (issue 12), the yardstick
// bench/compare.sh measures Cablecast against. It answers exactly what `cablecast bench
// broadcast` and `connect` need: the upgrade with 101 + {"type":"welcome"}, a subscribe with a
// canned confirm_subscription, and a trigger ({"command":"message",…,"data":"<JSON>"}) with the
// frame {"identifier":…,"message":<JSON>} to every subscriber, byte for byte what Cablecast's
// BenchmarkChannel broadcasts, so the generator measures and checks it as for any server.
//
// Left out, as the issue asks: the Action Cable protocol (canned frames; a trigger is found by
// its prefix and its data unescaped, nothing else parsed), sessions, the hub, pub/sub, Asio,
// timers and pings. Kept, because it is what Cablecast's delivery costs the kernel: one epoll
// loop, TCP_NODELAY sockets, the project's RFC 6455 codec and Cablecast's write path: a turn's
// frames queued per connection, then one gathered send per connection, all in one io_uring
// submission (ws::BatchSender, as Cablecast's loops) or one sendmsg each (--io-uring false).
// Every client is a subscriber of the one stream of --stream-id, whatever it sent.
#include "fan_out_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.hpp"
#include "core/file_limit.hpp"
#include "core/log.hpp"
#include "wire_text.hpp"
#include "ws/batch_sender.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/frame_parser.hpp"
#include "ws/handshake.hpp"

namespace cablecast::limit {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
// Same sizes as Cablecast's loops (ws/connection_set.cpp): one 64 KiB read buffer per loop,
// up to 256 sends per io_uring submission, 4 MiB of unsent bytes before a client is dropped.
constexpr std::size_t kScratchSize = 64 * 1024;
constexpr unsigned kBatchCapacity = 256;
constexpr std::size_t kMaxBacklog = 4 * 1024 * 1024;
constexpr std::size_t kMaxRequestHead = 8 * 1024;
constexpr std::size_t kMaxMessage = 64 * 1024;
constexpr std::size_t kIovMax = 64;  // buffers per sendmsg, as Cablecast's plain path

struct Connection {
  enum class State : std::uint8_t { handshaking, open, closed };
  explicit Connection(int descriptor) : fd(descriptor) {}

  int fd;
  State state = State::handshaking;
  std::uint32_t subscriber_slot = kNone;  // index in Loop::subscribers_
  std::uint32_t queue_head = kNone;       // this turn's frames: a list in Loop::queued_
  std::uint32_t queue_tail = kNone;
  std::string request;  // the upgrade request head so far (freed once answered)
  std::string backlog;  // bytes a full socket did not take, sent when it is writable again
  ws::FrameParser parser{ws::ParserOptions{.max_message_size = kMaxMessage}};
};

struct Stats {
  std::uint64_t accepted = 0;
  std::uint64_t broadcasts = 0;
  std::uint64_t deliveries = 0;  // broadcast frames queued, one per subscriber per broadcast
  std::uint64_t ignored = 0;     // client messages that were neither subscribe nor a trigger
  std::uint64_t dropped = 0;     // closed by the server: bad request, error, backlog over 4 MiB
};

class Loop final : private ws::FrameSink {
 public:
  Loop(const Options& options, int listener, int signals) : listener_(listener), signals_(signals) {
    const std::string identifier =
        json_escaped(R"({"channel":"BenchmarkChannel","id":")" + options.stream_id + "\"}");
    welcome_ = ws::encode_frame(ws::Opcode::text, R"({"type":"welcome"})");
    confirm_ = ws::encode_frame(ws::Opcode::text, R"({"identifier":")" + identifier +
                                                      R"(","type":"confirm_subscription"})");
    message_prefix_ = R"({"identifier":")" + identifier + R"(","message":)";
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    CABLE_ASSERT(epoll_ >= 0);
    // Edge-triggered: accept until EAGAIN on each wake-up.
    watch(listener_, &listener_, EPOLLIN | EPOLLET);
    watch(signals_, &signals_, EPOLLIN);
    if (options.io_uring) {
      boost::system::error_code error;
      batch_ = ws::BatchSender::create(kBatchCapacity, error);
      if (batch_) {
        CC_LOG_INFO("sends: batched with io_uring, one submission per loop turn");
      } else {
        CC_LOG_WARN("sends: io_uring unavailable ({}): one sendmsg per connection per loop turn",
                    error.message());
      }
    } else {
      CC_LOG_INFO("sends: one sendmsg per connection per loop turn (--io-uring=false)");
    }
  }

  ~Loop() override {
    for (Connection* c : all_) {
      if (c->state != Connection::State::closed) ::close(c->fd);
      delete c;
    }
    ::close(epoll_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Serves until SIGTERM or SIGINT.
  void run() {
    std::array<epoll_event, 256> events{};
    while (!stopping_) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        CABLE_ASSERT(errno == EINTR);
        continue;
      }
      for (int i = 0; i < n; ++i) dispatch(events[static_cast<std::size_t>(i)]);
      flush();
      reap();
    }
    CC_LOG_INFO(
        "stopping: {} connections accepted, {} subscribed now, {} broadcasts, {} deliveries "
        "queued, {} client messages ignored, {} connections dropped",
        stats_.accepted, subscribers_.size(), stats_.broadcasts, stats_.deliveries, stats_.ignored,
        stats_.dropped);
  }

 private:
  void watch(int fd, void* tag, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = tag;
    CABLE_ASSERT(::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) == 0);
  }

  void dispatch(const epoll_event& event) {
    if (event.data.ptr == &listener_) return accept_all();
    if (event.data.ptr == &signals_) {
      stopping_ = true;
      return;
    }
    Connection& c = *static_cast<Connection*>(event.data.ptr);
    if (c.state != Connection::State::closed && (event.events & EPOLLOUT)) on_writable(c);
    if (c.state != Connection::State::closed && (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
      on_readable(c);
    }
  }

  void accept_all() {
    while (true) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        // EMFILE and the like: the next connection raises a new edge and we try again.
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          CC_LOG_WARN("accept: {}", std::strerror(errno));
        }
        return;
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // as Cablecast
      auto* c = new Connection(fd);
      all_.push_back(c);
      ++stats_.accepted;
      // Registered once for the connection's life, both directions, edge-triggered.
      watch(fd, c, EPOLLIN | EPOLLOUT | EPOLLET);
    }
  }

  // Reads until the socket is drained (edge-triggered).
  void on_readable(Connection& c) {
    while (c.state != Connection::State::closed) {
      const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == ECONNRESET) return close(c);  // a client closing with unread bytes: it left
        return drop(c, std::strerror(errno));
      }
      if (n == 0) return close(c);  // the client left (the generator closes without a frame)
      const std::span<char> bytes(scratch_.data(), static_cast<std::size_t>(n));
      if (c.state == Connection::State::handshaking) {
        on_request_bytes(c, bytes);
      } else {
        feed(c, bytes);
      }
    }
  }

  void feed(Connection& c, std::span<char> bytes) {
    current_ = &c;
    const auto error = c.parser.feed(bytes, *this);
    current_ = nullptr;
    if (error && c.state != Connection::State::closed) drop(c, error->reason);
  }

  void on_request_bytes(Connection& c, std::span<char> bytes) {
    c.request.append(bytes.data(), bytes.size());
    const std::size_t end = c.request.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.request.size() > kMaxRequestHead) drop(c, "request head too large");
      return;
    }
    const std::string_view head(c.request.data(), end + 2);  // keep the last header's CRLF
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const std::string_view key = header_value(head, lower, "sec-websocket-key:");
    if (!head.starts_with("GET ") || key.empty()) {
      // Not the generator's upgrade: say so on the wire and in the log, then close.
      const std::string_view refusal = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
      [[maybe_unused]] const ssize_t sent =
          ::send(c.fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      return drop(c, "not a WebSocket upgrade");
    }
    std::string& answer = turn_bytes_.emplace_back(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ");
    answer.append(ws::compute_accept_key(key)).append("\r\n");
    // The sub-protocol Cablecast picks for this client (it offers actioncable-v1-json first).
    if (header_value(head, lower, "sec-websocket-protocol:").find("actioncable-v1-json") !=
        std::string_view::npos) {
      answer.append("Sec-WebSocket-Protocol: actioncable-v1-json\r\n");
    }
    answer.append("\r\n");
    queue(c, answer);
    queue(c, welcome_);
    c.state = Connection::State::open;
    std::string rest = c.request.substr(end + 4);
    std::string().swap(c.request);
    if (!rest.empty()) feed(c, std::span<char>(rest.data(), rest.size()));
  }

  // ws::FrameSink, for the connection being fed (current_).
  void on_message(ws::Opcode opcode, std::string_view payload) override {
    Connection& c = *current_;
    if (opcode == ws::Opcode::text && payload.starts_with(R"({"command":"subscribe")")) {
      if (c.subscriber_slot == kNone) {
        c.subscriber_slot = static_cast<std::uint32_t>(subscribers_.size());
        subscribers_.push_back(&c);
      }
      return queue(c, confirm_);
    }
    if (opcode == ws::Opcode::text && trigger_data(payload, data_)) return fan_out();
    ++stats_.ignored;
    CC_LOG_DEBUG("ignored a client message: {}", log::clip(payload, 120));
  }
  void on_ping(std::string_view payload) override {
    queue(*current_, turn_bytes_.emplace_back(ws::encode_frame(ws::Opcode::pong, payload)));
  }
  void on_pong(std::string_view) override {}
  void on_close(std::optional<std::uint16_t>, std::string_view) override {
    // The generator never sends one; any other client is closed without the reply frame.
    close(*current_);
  }

  // One frame for this broadcast, queued on every subscriber: the bytes live until the flush.
  void fan_out() {
    std::string payload = message_prefix_;
    payload.append(data_).push_back('}');
    const std::string& frame =
        turn_bytes_.emplace_back(ws::encode_frame(ws::Opcode::text, payload));
    ++stats_.broadcasts;
    for (Connection* subscriber : subscribers_) queue(*subscriber, frame);
    stats_.deliveries += subscribers_.size();
  }

  void queue(Connection& c, std::string_view bytes) {
    const auto index = static_cast<std::uint32_t>(queued_.size());
    queued_.push_back(Queued{bytes, kNone});
    if (c.queue_head == kNone) {
      c.queue_head = index;
      flush_list_.push_back(&c);
    } else {
      queued_[c.queue_tail].next = index;
    }
    c.queue_tail = index;
  }

  // The turn's writes: each queued connection's frames in one gathered send, all of them in one
  // io_uring submission (up to kBatchCapacity sends each), or one sendmsg per connection.
  void flush() {
    for (Connection* c : flush_list_) {
      if (c->state == Connection::State::closed) continue;
      if (!c->backlog.empty()) {
        write_rest(*c, 0, /*socket_full=*/true);  // keeps the order behind what waits
      } else if (batch_) {
        add_to_batch(*c);
      } else {
        write_rest(*c, 0, /*socket_full=*/false);
      }
    }
    if (batch_) send_batch();
    for (Connection* c : flush_list_) c->queue_head = c->queue_tail = kNone;
    flush_list_.clear();
    queued_.clear();
    turn_bytes_.clear();
  }

  void add_to_batch(Connection& c) {
    std::array<iovec, ws::BatchSender::kMaxBuffers> buffers{};
    std::size_t count = 0;
    for (auto i = c.queue_head; i != kNone && count < buffers.size(); i = queued_[i].next) {
      buffers[count++] = iovec{const_cast<char*>(queued_[i].bytes.data()), queued_[i].bytes.size()};
    }
    batch_->add(c.fd, std::span<const iovec>(buffers.data(), count));
    batched_.push_back(&c);
    if (batch_->full()) send_batch();
  }

  void send_batch() {
    if (batched_.empty()) return;
    const bool healthy = batch_->submit();
    for (std::size_t i = 0; i < batched_.size(); ++i) {
      Connection& c = *batched_[i];
      const int result = batch_->result(i);
      if (result == -EAGAIN || result == -EWOULDBLOCK) {
        write_rest(c, 0, /*socket_full=*/true);
      } else if (result == -ECANCELED) {
        write_rest(c, 0, /*socket_full=*/false);  // the batch did not happen: the plain way
      } else if (result < 0) {
        drop(c, std::strerror(-result));
      } else {
        // Frames beyond the batch's buffers, or what a short write left: the plain path.
        write_rest(c, static_cast<std::size_t>(result), /*socket_full=*/false);
      }
    }
    batched_.clear();
    batch_->clear();
    if (!healthy) {
      CC_LOG_ERROR("io_uring refused a batch of sends: one sendmsg per connection from now on");
      batch_.reset();
    }
  }

  // c's queued frames after the first `sent` bytes: written with sendmsg unless the socket is
  // known to be full; what it does not take goes to c.backlog, sent once writable.
  void write_rest(Connection& c, std::size_t sent, bool socket_full) {
    std::array<iovec, kIovMax> buffers{};
    std::size_t count = 0;
    auto write_out = [&] {
      if (!socket_full) socket_full = !sendmsg_all(c, std::span<iovec>(buffers.data(), count));
      if (socket_full) {
        for (std::size_t k = 0; k < count; ++k) {
          c.backlog.append(static_cast<const char*>(buffers[k].iov_base), buffers[k].iov_len);
        }
      }
      count = 0;
    };
    for (auto i = c.queue_head; i != kNone && c.state != Connection::State::closed;
         i = queued_[i].next) {
      std::string_view bytes = queued_[i].bytes;
      if (sent >= bytes.size()) {
        sent -= bytes.size();
        continue;
      }
      bytes.remove_prefix(sent);
      sent = 0;
      buffers[count++] = iovec{const_cast<char*>(bytes.data()), bytes.size()};
      if (count == buffers.size()) write_out();
    }
    if (count > 0 && c.state != Connection::State::closed) write_out();
    if (c.backlog.size() > kMaxBacklog) drop(c, "not reading: over 4 MiB unsent");
  }

  // Writes `buffers`; returns false when the socket filled up, with the unwritten bytes left in
  // `buffers` (their prefix trimmed, the written ones emptied) for the caller to keep.
  bool sendmsg_all(Connection& c, std::span<iovec> buffers) {
    std::size_t first = 0;
    while (first < buffers.size()) {
      msghdr message{};
      message.msg_iov = buffers.data() + first;
      message.msg_iovlen = buffers.size() - first;
      const ssize_t n = ::sendmsg(c.fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        drop(c, std::strerror(errno));
        return true;  // nothing to keep
      }
      auto written = static_cast<std::size_t>(n);
      while (first < buffers.size() && written >= buffers[first].iov_len) {
        written -= buffers[first].iov_len;
        buffers[first++].iov_len = 0;
      }
      if (first < buffers.size()) {
        // A short write: try again, the socket being full is only known from EAGAIN (after
        // which epoll reports the edge when it drains; a short write alone promises nothing).
        buffers[first].iov_base = static_cast<char*>(buffers[first].iov_base) + written;
        buffers[first].iov_len -= written;
      }
    }
    return first == buffers.size();
  }

  void on_writable(Connection& c) {
    if (c.backlog.empty()) return;
    while (!c.backlog.empty()) {
      const ssize_t n = ::send(c.fd, c.backlog.data(), c.backlog.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return drop(c, std::strerror(errno));
      }
      c.backlog.erase(0, static_cast<std::size_t>(n));
    }
    std::string().swap(c.backlog);  // an idle connection holds no buffer
  }

  void drop(Connection& c, std::string_view reason) {
    if (c.state == Connection::State::closed) return;
    ++stats_.dropped;
    CC_LOG_WARN("closing a connection: {}", reason);
    close(c);
  }

  // Closing the descriptor takes it out of the epoll set; the object lives until reap(), so
  // the turn's events and queued frames can still name it.
  void close(Connection& c) {
    if (c.state == Connection::State::closed) return;
    c.state = Connection::State::closed;
    ::close(c.fd);
    if (c.subscriber_slot != kNone) {
      Connection* last = subscribers_.back();
      subscribers_[c.subscriber_slot] = last;
      last->subscriber_slot = c.subscriber_slot;
      subscribers_.pop_back();
      c.subscriber_slot = kNone;
    }
    closed_ += 1;
  }

  void reap() {
    if (closed_ == 0) return;
    std::erase_if(all_, [](Connection* c) {
      if (c->state != Connection::State::closed) return false;
      delete c;
      return true;
    });
    closed_ = 0;
  }

  struct Queued {
    std::string_view bytes;
    std::uint32_t next;  // the connection's next queued frame, or kNone
  };

  int epoll_ = -1;
  int listener_;
  int signals_;
  bool stopping_ = false;
  std::unique_ptr<ws::BatchSender> batch_;  // null: one sendmsg per connection
  std::string welcome_, confirm_;           // canned frames
  std::string message_prefix_;              // {"identifier":"…","message":
  std::string data_;                        // the trigger being fanned out
  std::vector<char> scratch_ = std::vector<char>(kScratchSize);
  std::vector<Connection*> all_;
  std::size_t closed_ = 0;  // connections closed this turn, deleted by reap()
  std::vector<Connection*> subscribers_;
  std::vector<Connection*> flush_list_;  // connections with frames queued this turn
  std::vector<Connection*> batched_;     // the sends in batch_, in order
  std::vector<Queued> queued_;           // this turn's frames, linked per connection
  std::deque<std::string> turn_bytes_;   // frames made this turn (deque: stable addresses)
  Connection* current_ = nullptr;        // the connection the parser is feeding
  Stats stats_;
};

}  // namespace

void serve(const Options& options, int listener, int signals) {
  Loop loop(options, listener, signals);
  loop.run();
}

}  // namespace cablecast::limit
