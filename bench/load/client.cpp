#include "client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "worker.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/handshake.hpp"

namespace cablecast::bench {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Largest HTTP response head accepted before giving up on a server.
constexpr std::size_t kMaxResponseHead = 16 * 1024;
// Largest message the generator accepts (broadcast payloads are small; this only guards).
constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The value of header `name` (lowercase) in a response head, whitespace trimmed.
std::string_view header_value(std::string_view head, std::string_view lower_head,
                              std::string_view name) {
  std::string needle = "\r\n" + std::string(name) + ":";
  auto at = lower_head.find(needle);
  if (at == std::string_view::npos) return {};
  auto start = at + needle.size();
  auto end = head.find("\r\n", start);
  std::string_view value = head.substr(start, end - start);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// Appends `text` as a JSON string. Only quotes and backslashes occur in what the generator
// sends (identifiers, its own JSON, sids, stream names and epochs of the server's making).
void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

constexpr std::string_view kExtProtocol = "actioncable-v1-ext-json";

}  // namespace

struct Client::Handshake {
  std::string expected_accept;
  std::string response;  // bytes of the HTTP response head received so far
};

Client::Client(Worker& worker, std::uint32_t index, std::uint32_t stream)
    : worker_(worker),
      socket_(worker.io()),
      parser_(ws::ParserOptions{.max_message_size = kMaxMessage, .expect_masked = false}),
      index_(index),
      stream_(stream) {}

Client::~Client() = default;

void Client::start() {
  if (state_ != State::idle) return;
  state_ = State::connecting;
  const Target& target = worker_.target();
  error_code ec;
  socket_.open(target.server.protocol(), ec);
  if (ec) return fail("socket: " + ec.message());
  socket_.set_option(tcp::socket::reuse_address(true), ec);
  if (!target.sources.empty()) {
    // Let connect() pick the port for the full 4-tuple instead of reserving one at bind time,
    // which would cap each source address at one ephemeral range for all destinations.
    int on = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    socket_.bind(tcp::endpoint(target.sources[index_ % target.sources.size()], 0), ec);
    if (ec) return fail("bind: " + ec.message());
  }
  socket_.async_connect(target.server, [this](error_code connect_ec) { on_connected(connect_ec); });
}

void Client::on_connected(error_code ec) {
  if (state_ != State::connecting) return;
  if (ec) return fail("connect: " + ec.message());
  socket_.set_option(tcp::no_delay(true), ec);  // commands are small and must not wait 40 ms
  socket_.non_blocking(true, ec);
  if (ec) return fail("non-blocking: " + ec.message());
  fd_ = socket_.release(ec);
  if (ec) return fail("release: " + ec.message());
  if (auto error = worker_.ready_set().add(fd_, this)) return fail("epoll: " + *error);
  state_ = State::handshaking;
  handshake_ = std::make_unique<Handshake>();
  std::string key = worker_.next_key();
  handshake_->expected_accept = ws::compute_accept_key(key);
  std::string request = worker_.target().request_head;
  request.append(key).append("\r\n");
  if (resume_ && resume_->restore_next) {
    // AnyCable's header (the query parameter "sid", which @anycable/core sends, is the other
    // way; the header wins on the server, and needs no per-client request line).
    request.append("X-AnyCable-Restore-Sid: ").append(resume_->sid).append("\r\n");
  }
  request.append("\r\n");
  write(request);
}

void Client::on_readable() {
  if (state_ == State::closed) return;
  std::span<char> scratch = worker_.scratch();
  // A few reads per wake-up at most, so one busy connection cannot starve the others; the
  // worker calls again later if the socket was not drained (edge-triggered readiness).
  for (int round = 0; round < 4; ++round) {
    const ssize_t n = ::recv(fd_, scratch.data(), scratch.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      return fail(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) return fail("server closed the connection");
    const auto got = static_cast<std::size_t>(n);
    if (!consume(scratch.first(got))) return;
    if (got < scratch.size()) return;  // drained: the next bytes raise a new edge
  }
  worker_.read_again(*this);
}

bool Client::consume(std::span<char> bytes) {
  if (state_ != State::handshaking) {
    feed(bytes);
    return state_ != State::closed;
  }
  auto rest = take_response(bytes);
  if (rest && !rest->empty()) feed(std::span<char>(rest->data(), rest->size()));
  return state_ != State::closed;
}

std::optional<std::string> Client::take_response(std::span<const char> bytes) {
  std::string& response = handshake_->response;
  response.append(bytes.data(), bytes.size());
  auto end = response.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (response.size() > kMaxResponseHead) fail("HTTP response head too large");
    return std::nullopt;
  }
  std::string_view head(response.data(), end + 2);  // keep the last header's CRLF
  if (!head.starts_with("HTTP/1.1 101")) {
    fail("upgrade refused: " + std::string(head.substr(0, head.find("\r\n"))));
    return std::nullopt;
  }
  std::string lower = lowercase(head);
  if (header_value(head, lower, "sec-websocket-accept") != handshake_->expected_accept) {
    fail("bad Sec-WebSocket-Accept");
    return std::nullopt;
  }
  if (worker_.target().ext_protocol &&
      header_value(head, lower, "sec-websocket-protocol") != kExtProtocol) {
    fail("the server did not select actioncable-v1-ext-json");
    return std::nullopt;
  }
  std::string rest = response.substr(end + 4);
  handshake_.reset();
  state_ = State::welcoming;
  return rest;
}

void Client::feed(std::span<char> bytes) {
  if (auto error = parser_.feed(bytes, *this)) {
    fail("WebSocket protocol error: " + std::string(error->reason));
  }
}

void Client::on_message(ws::Opcode opcode, std::string_view payload) {
  if (state_ == State::closed) return;
  if (opcode != ws::Opcode::text) return fail("binary message from an Action Cable server");
  const ServerFrame frame = worker_.reader().read(payload);
  using Type = ServerFrame::Type;
  switch (frame.type) {
    case Type::message:
      if (state_ != State::subscribed && state_ != State::restoring) return;
      if (resume_ && frame.offset >= 0) {
        // The last position seen, where the history request starts after a cut.
        resume_->offset = frame.offset;
        if (resume_->epoch != frame.epoch) resume_->epoch = frame.epoch;
        if (resume_->stream != frame.stream_id) resume_->stream = frame.stream_id;
      }
      worker_.client_message(*this, frame);
      return;
    case Type::ping:
    case Type::other:
      return;
    case Type::welcome:
      if (state_ != State::welcoming) return;
      return on_welcome(frame);
    case Type::confirm:
      if (state_ != State::subscribing) return;
      state_ = State::subscribed;
      return worker_.client_subscribed(*this);
    case Type::confirm_history:
    case Type::reject_history:
      if (state_ != State::restoring) return;
      state_ = State::subscribed;
      return worker_.client_restored(*this, frame.type == Type::confirm_history);
    case Type::reject:
      return fail("subscription rejected");
    case Type::disconnect:
      return fail("server sent disconnect");
    case Type::invalid:
      return fail("server sent a message that is not a JSON object");
  }
}

void Client::on_welcome(const ServerFrame& frame) {
  if (!worker_.target().ext_protocol) return send_subscribe();
  if (frame.sid.empty()) return fail("extended protocol: welcome without sid");
  const bool restoring = resume_ && resume_->restore_next;
  if (!resume_) {
    resume_ = std::make_unique<Resume>();
    resume_->since_unix = std::time(nullptr) - 1;
  }
  resume_->sid = frame.sid;  // the next restore uses the newest one
  resume_->restore_next = false;
  if (restoring && frame.restored) {
    // The subscription is back without a subscribe; ask for what was missed since.
    state_ = State::restoring;
    return send_history_request();
  }
  // A new session (first connection, or the server did not restore): subscribe as usual; the
  // mode sees on_subscribed again and counts what the client missed.
  send_subscribe();
}

void Client::send_subscribe() {
  state_ = State::subscribing;
  // The official client also subscribes only after "welcome".
  write(ws::encode_client_frame(ws::Opcode::text, worker_.target().subscribe_commands[stream_],
                                worker_.next_mask()));
}

void Client::send_history_request() {
  // {"command":"history","identifier":…,"history":{"streams":{<stream>:{"epoch":…,
  // "offset":…}}}}, or {"since":<unix seconds>} when nothing was received before the cut.
  std::string command = R"({"command":"history","identifier":)";
  append_json_string(command, worker_.target().identifiers[stream_]);
  command.append(R"(,"history":{)");
  if (resume_->offset >= 0) {
    command.append(R"("streams":{)");
    append_json_string(command, resume_->stream);
    command.append(R"(:{"epoch":)");
    append_json_string(command, resume_->epoch);
    command.append(R"(,"offset":)").append(std::to_string(resume_->offset)).append("}}");
  } else {
    command.append(R"("since":)").append(std::to_string(resume_->since_unix));
  }
  command.append("}}");
  write(ws::encode_client_frame(ws::Opcode::text, command, worker_.next_mask()));
}

void Client::on_ping(std::string_view payload) {
  if (state_ == State::closed) return;
  write(ws::encode_client_frame(ws::Opcode::pong, payload, worker_.next_mask()));
}

void Client::on_pong(std::string_view) {}

void Client::on_close(std::optional<std::uint16_t> code, std::string_view) {
  fail("close frame " + (code ? std::to_string(*code) : std::string("without code")));
}

void Client::perform(std::string_view data_json) {
  if (state_ != State::subscribed) return;
  // {"command":"message","identifier":"<id>","data":"<data>"}: both values are JSON strings
  // holding JSON text, so they are escaped.
  const std::string& identifier = worker_.target().identifiers[stream_];
  std::string command;
  command.reserve(64 + 2 * (identifier.size() + data_json.size()));
  command.append(R"({"command":"message","identifier":)");
  append_json_string(command, identifier);
  command.append(R"(,"data":)");
  append_json_string(command, data_json);
  command.push_back('}');
  write(ws::encode_client_frame(ws::Opcode::text, command, worker_.next_mask()));
}

void Client::write(std::string_view bytes) {
  if (state_ == State::closed) return;
  if (outbox_.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return fail(std::string("write: ") + std::strerror(errno));
    }
    bytes.remove_prefix(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (bytes.empty()) return;
  }
  // The rest goes when the ReadySet reports the socket writable again.
  outbox_.append(bytes);
}

void Client::on_writable() {
  if (state_ == State::closed || outbox_.empty()) return;
  const ssize_t n = ::send(fd_, outbox_.data(), outbox_.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    return fail(std::string("write: ") + std::strerror(errno));
  }
  outbox_.erase(0, static_cast<std::size_t>(n));
  if (outbox_.empty()) std::string().swap(outbox_);  // an idle client holds no buffer
}

void Client::close_descriptor() {
  error_code ec;
  socket_.close(ec);
  // Closing the descriptor also removes it from the ReadySet (nothing else holds it).
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Client::fail(std::string_view reason) {
  if (state_ == State::closed) return;
  const bool was_subscribed = state_ == State::subscribed;
  state_ = State::closed;
  close_descriptor();
  handshake_.reset();
  std::string().swap(outbox_);
  worker_.client_failed(*this, reason, was_subscribed);
}

void Client::abandon(std::string_view reason) {
  if (state_ == State::idle || state_ == State::subscribed || state_ == State::closed) return;
  fail(reason);
}

void Client::cut() {
  if (state_ == State::closed || state_ == State::idle) return;
  if (fd_ >= 0) {
    // SO_LINGER 0: close() sends RST, as a dropped network path ends a connection for the
    // server (no close frame, no FIN handshake), and leaves no TIME_WAIT behind.
    linger abort{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  if (resume_ && !resume_->sid.empty()) resume_->restore_next = true;
  close();
}

void Client::restart() {
  if (state_ != State::closed) return;
  parser_ =
      ws::FrameParser(ws::ParserOptions{.max_message_size = kMaxMessage, .expect_masked = false});
  state_ = State::idle;
}

void Client::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  close_descriptor();
  handshake_.reset();
  std::string().swap(outbox_);
}

}  // namespace cablecast::bench
