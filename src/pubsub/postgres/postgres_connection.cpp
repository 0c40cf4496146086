#include "pubsub/postgres/postgres_connection.hpp"

#include <unistd.h>

#include "core/assert.hpp"
#include "core/log.hpp"

namespace cablecast::pubsub::postgres {

namespace asio = boost::asio;

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// one log line each reads better and greps reliably.
std::string trimmed(const char* text) {
  std::string s;
  for (const char* p = text ? text : ""; *p; ++p) {
    bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (space && (s.empty() || s.back() == ' ')) continue;
    s.push_back(space ? ' ' : *p);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Server notices (e.g. "terminating connection due to administrator command" before a restart)
// go to our log instead of libpq's default, a bare line on stderr.
void log_notice(void* role, const char* message) {
  CC_LOG_WARN("pub/sub postgres {}: server says: {}", *static_cast<const std::string*>(role),
              trimmed(message));
}

}  // namespace

PostgresConnection::PostgresConnection(asio::io_context& io, std::string role, std::string conninfo,
                                       Events events)
    : io_(io),
      role_(std::move(role)),
      conninfo_(std::move(conninfo)),
      events_(std::move(events)),
      socket_(io),
      connect_timer_(io) {}

PostgresConnection::~PostgresConnection() { teardown(); }

std::string PostgresConnection::last_error() const {
  std::string why = trimmed(conn_ ? PQerrorMessage(conn_) : "out of memory");
  return why.empty() ? "connection closed" : why;
}

void PostgresConnection::connect(std::chrono::milliseconds timeout) {
  CABLE_ASSERT(state_ == State::idle && conn_ == nullptr);
  // As Rails names its listener "ActionCable-PID-<pid>": one node's sessions are easy to find in
  // pg_stat_activity (and the tests end one of them by this name).
  std::string application_name = "cablecast-" + std::to_string(::getpid()) + "-" + role_;
  // Entries before "dbname" are defaults that the user's URL may override (libpq: "array entries
  // appearing before an expanded dbname entry can be overridden by fields of the connection
  // string"). TCP keepalives notice a broker that vanished without closing the connection
  // within about a minute instead of the kernel's two hours.
  const char* keywords[] = {"fallback_application_name",
                            "keepalives",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "dbname",
                            nullptr};
  const char* values[] = {application_name.c_str(), "1",    "30", "10", "3",
                          conninfo_.c_str(),        nullptr};
  conn_ = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  ++generation_;
  state_ = State::connecting;
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) return lose(last_error());
  PQsetNoticeProcessor(conn_, &log_notice, &role_);

  // PQconnectPoll has no timeout of its own (connect_timeout only governs blocking connects).
  connect_timer_.expires_after(timeout);
  connect_timer_.async_wait(
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (ec || generation != self->generation_ || !self->connecting()) return;
        self->lose("no answer from PostgreSQL within the connect timeout");
      });
  // libpq: after PQconnectStart, behave as if PQconnectPoll had returned PGRES_POLLING_WRITING.
  wait_to_connect(PGRES_POLLING_WRITING);
}

void PostgresConnection::wait_to_connect(PostgresPollingStatusType want) {
  // PQconnectPoll may close the socket and open another one (next host or address, SSL or GSS
  // fallback), possibly under the same descriptor number; so the descriptor is released before
  // every poll and assigned afresh here, which keeps the reactor's registration in step.
  int fd = PQsocket(conn_);
  if (fd < 0) return lose(last_error());
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  if (ec) return lose("cannot watch the PostgreSQL socket: " + ec.message());
  auto wait = want == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                            : asio::posix::stream_descriptor::wait_write;
  socket_.async_wait(
      wait, [self = shared_from_this(), generation = generation_](boost::system::error_code error) {
        if (error || generation != self->generation_) return;
        self->poll_connect();
      });
}

void PostgresConnection::poll_connect() {
  socket_.release();
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_OK:
      return on_connected();
    case PGRES_POLLING_READING:
      return wait_to_connect(PGRES_POLLING_READING);
    case PGRES_POLLING_WRITING:
      return wait_to_connect(PGRES_POLLING_WRITING);
    default:  // PGRES_POLLING_FAILED (PGRES_POLLING_ACTIVE is no longer returned)
      return lose(last_error());
  }
}

void PostgresConnection::on_connected() {
  connect_timer_.cancel();
  if (PQsetnonblocking(conn_, 1) != 0) return lose(last_error());
  boost::system::error_code ec;
  socket_.assign(PQsocket(conn_), ec);
  if (ec) return lose("cannot watch the PostgreSQL socket: " + ec.message());
  state_ = State::up;
  wait_readable();
  auto generation = generation_;
  events_.up();
  if (generation != generation_) return;  // closed from the callback
  send_next();
}

void PostgresConnection::wait_readable() {
  if (reading_) return;
  reading_ = true;
  socket_.async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (generation != self->generation_) return;
        self->reading_ = false;
        if (ec) return self->lose("waiting for PostgreSQL failed: " + ec.message());
        self->on_readable();
      });
}

void PostgresConnection::wait_writable() {
  if (writing_) return;
  writing_ = true;
  socket_.async_wait(
      asio::posix::stream_descriptor::wait_write,
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
        if (generation != self->generation_) return;
        self->writing_ = false;
        if (ec) return self->lose("waiting for PostgreSQL failed: " + ec.message());
        self->flush();
      });
}

void PostgresConnection::on_readable() {
  // A closed or reset connection reads as EOF here: PQconsumeInput fails and PQstatus turns BAD.
  if (PQconsumeInput(conn_) == 0) return lose(last_error());
  auto generation = generation_;
  collect_results();
  if (generation != generation_) return;
  drain_notifications();
  if (generation != generation_) return;
  if (PQstatus(conn_) == CONNECTION_BAD) return lose(last_error());
  // libpq: while output is pending, readability also calls for another PQflush.
  if (writing_) flush();
  if (generation != generation_) return;
  wait_readable();
}

void PostgresConnection::flush() {
  int pending = PQflush(conn_);
  if (pending < 0) return lose(last_error());
  if (pending == 1) wait_writable();
}

void PostgresConnection::query(std::string sql, std::vector<std::string> params, QueryDone done) {
  queue_.push_back({std::move(sql), std::move(params), std::move(done)});
  send_next();
}

void PostgresConnection::send_next() {
  if (state_ != State::up || in_flight_ || queue_.empty()) return;
  const Query& next = queue_.front();
  std::vector<const char*> values;
  values.reserve(next.params.size());
  for (const auto& p : next.params) values.push_back(p.c_str());
  // The extended protocol with text parameters: no quoting, and one statement per query, each
  // its own implicit transaction (NOTIFYs in one transaction with equal payloads would merge).
  if (PQsendQueryParams(conn_, next.sql.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) == 0) {
    return lose(last_error());
  }
  in_flight_ = true;
  query_error_.clear();
  flush();
}

void PostgresConnection::collect_results() {
  while (in_flight_ && PQisBusy(conn_) == 0) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) {  // every result of the query in flight has been read
      finish_query();
      continue;  // finish_query may have sent the next one
    }
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && query_error_.empty()) {
      query_error_ = trimmed(PQresultErrorMessage(result));
      if (query_error_.empty()) query_error_ = PQresStatus(status);
    }
    PQclear(result);
  }
}

void PostgresConnection::finish_query() {
  in_flight_ = false;
  Query done = std::move(queue_.front());
  queue_.pop_front();
  // An error result caused by the connection breaking does not say the server refused.
  Outcome outcome = PQstatus(conn_) == CONNECTION_BAD ? Outcome::lost
                    : query_error_.empty()            ? Outcome::ok
                                                      : Outcome::failed;
  auto generation = generation_;
  done.done(outcome, query_error_);
  if (generation != generation_) return;
  send_next();
}

void PostgresConnection::drain_notifications() {
  auto generation = generation_;
  while (PGnotify* notification = PQnotifies(conn_)) {
    std::string channel = notification->relname;
    std::string payload = notification->extra;
    PQfreemem(notification);
    events_.notify(channel, payload);
    if (generation != generation_) return;
  }
}

void PostgresConnection::lose(std::string why) {
  bool was_up = state_ == State::up;
  teardown();
  fail_queued(why);
  events_.down(why, was_up);
}

void PostgresConnection::drop(std::string why) {
  if (state_ == State::idle) return;
  lose(std::move(why));
}

void PostgresConnection::close() {
  teardown();
  fail_queued("connection closed");
}

void PostgresConnection::teardown() {
  ++generation_;
  connect_timer_.cancel();
  socket_.release();  // cancels pending waits; libpq closes the descriptor
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  state_ = State::idle;
  reading_ = writing_ = in_flight_ = false;
}

void PostgresConnection::fail_queued(std::string_view why) {
  auto queue = std::move(queue_);
  queue_.clear();
  for (auto& q : queue) q.done(Outcome::lost, why);
}

}  // namespace cablecast::pubsub::postgres
