#include "ws/connection_set.hpp"

#include <boost/asio/post.hpp>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "ws/batch_sender.hpp"
#include "ws/tls_context.hpp"

namespace cablecast::ws {

using boost::system::error_code;

namespace {
// One read fills at most this much of the loop's scratch buffer. 64 KiB keeps large messages
// to a few reads while costing one buffer per loop, not per connection.
constexpr std::size_t kScratchSize = 64 * 1024;
// Sends per io_uring submission; a bigger flush submits several batches.
constexpr unsigned kBatchCapacity = 256;
}  // namespace

ConnectionSet::ConnectionSet(asio::io_context& io, ConnectionLimits limits, Router& router,
                             std::shared_ptr<const TlsContext> tls, bool batch_sends,
                             metrics::LoopMetrics* metrics)
    : io_(io),
      ready_(io),
      own_metrics_(metrics ? nullptr : std::make_unique<metrics::LoopMetrics>()),
      metrics_(metrics ? *metrics : *own_metrics_),
      limits_(limits),
      router_(router),
      scratch_(kScratchSize),
      tls_(std::move(tls)),
      sweep_timer_(io) {
  if (tls_) tls_plain_.resize(kTlsRecordSize);
  // TLS writes go through OpenSSL, one connection at a time: nothing to batch.
  if (batch_sends && !tls_) {
    error_code ec;
    batch_ = BatchSender::create(kBatchCapacity, ec);
    if (!batch_) batch_unavailable_ = ec.message();
  }
  arm_sweep();
}

ConnectionSet::~ConnectionSet() {
  // Connections unlink themselves when destroyed; any still here are leaked references,
  // which would then touch a dead set.
  CABLE_ASSERT(connections_.empty());
}

void ConnectionSet::adopt(Socket socket) {
  auto connection = std::make_shared<Connection>(*this, std::move(socket));
  connections_.push_back(*connection);
  ready_.resume();
  connection->start();
}

void ConnectionSet::set_tls(std::shared_ptr<const TlsContext> tls) {
  CABLE_ASSERT(tls_ && tls);  // a plain server cannot become a TLS one (the URLs would change)
  tls_ = std::move(tls);
}

void ConnectionSet::stop_accepting_requests() {
  stopping_ = true;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;
    if (c.state_ == Connection::State::reading_request ||
        c.state_ == Connection::State::tls_handshake) {
      c.abort("server shutting down");
    }
  }
}

void ConnectionSet::abort_all() {
  stopping_ = true;
  sweep_timer_.cancel();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;
    c.abort("shutdown deadline reached");
  }
}

void ConnectionSet::schedule_flush(std::shared_ptr<Connection> connection) {
  flush_list_.push_back(std::move(connection));
  if (flush_posted_) return;
  flush_posted_ = true;
  // Runs after everything already queued on the loop (e.g. a burst of deliveries), so each
  // connection writes once for all the frames it got in this turn.
  asio::post(io_, [this] { flush_all(); });
}

void ConnectionSet::flush_all() {
  flush_posted_ = false;
  auto batch = std::move(flush_list_);
  flush_list_.clear();
  for (auto& connection : batch) {
    connection->in_flush_list_ = false;
    if (batch_ && connection->add_to_batch(*batch_)) {
      batched_.push_back(connection);
      if (batch_->full()) send_batch(batched_);
    } else {
      connection->flush();
    }
  }
  if (!batched_.empty()) send_batch(batched_);
  // Keep the capacity for the next turn unless a huge burst inflated it.
  if (batch.capacity() > 4096) batch = {};
  batch.clear();
  if (flush_list_.empty()) flush_list_ = std::move(batch);
}

void ConnectionSet::send_batch(std::vector<std::shared_ptr<Connection>>& batched) {
  const bool healthy = batch_->submit();
  // Each connection is told its own outcome; one that closes meanwhile only affects itself.
  for (std::size_t i = 0; i < batched.size(); ++i) batched[i]->batch_sent(batch_->result(i));
  batched.clear();
  batch_->clear();
  if (!healthy) {
    CC_LOG_ERROR(
        "io_uring refused a batch of sends: sending with one sendmsg per connection from "
        "now on");
    batch_unavailable_ = "io_uring refused a batch";
    batch_.reset();
  }
}

std::uint32_t ConnectionSet::next_connection_seq() {
  if (++last_seq_ == 0) ++last_seq_;
  return last_seq_;
}

std::uint8_t ConnectionSet::intern(std::string_view name) {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<std::uint8_t>(i);
  }
  if (names_.size() == kMaxNames) return static_cast<std::uint8_t>(kMaxNames);
  names_.emplace_back(name);
  return static_cast<std::uint8_t>(names_.size() - 1);
}

std::string_view ConnectionSet::name(std::uint8_t index) const {
  return index < names_.size() ? std::string_view(names_[index]) : std::string_view("other");
}

void ConnectionSet::arm_sweep() {
  if (stopping_ && connections_.empty()) return;
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this](error_code ec) {
    if (ec) return;
    sweep();
    arm_sweep();
  });
}

void ConnectionSet::sweep() {
  auto now = Clock::now();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it++;  // advance first: sweeping may unlink c
    c.sweep(now);
  }
}

}  // namespace cablecast::ws
