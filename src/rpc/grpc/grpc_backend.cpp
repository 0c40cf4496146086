#include "rpc/grpc/grpc_backend.hpp"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "anycable_rpc.grpc.pb.h"
#include "core/assert.hpp"
#include "core/line_budget.hpp"
#include "core/log.hpp"
#include "rpc/grpc/grpc_error.hpp"
#include "rpc/grpc/grpc_target.hpp"
#include "rpc/grpc/proto_mapping.hpp"

namespace cablecast::rpc {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using grpc::Error;
using Stub = anycable::RPC::Stub;
using AttemptDone = std::function<void(::grpc::Status)>;

constexpr std::chrono::milliseconds kUnavailableBackoff{100};
constexpr std::chrono::milliseconds kExhaustedBackoff{10};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

// One call from the moment it is made until its completion is posted; owned by the backend's
// thread, and kept alive by gRPC while an attempt is out (its messages and context are there).
class Call {
 public:
  enum class Phase { created, queued, in_flight, backing_off, finished };

  Call(CallMeta meta_in, asio::any_io_executor reply_on_in, Clock::time_point deadline_in)
      : meta(std::move(meta_in)), reply_on(std::move(reply_on_in)), deadline(deadline_in) {}
  virtual ~Call() = default;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  virtual const char* method() const = 0;
  // Starts one attempt; gRPC runs `done` once, on one of its threads.
  virtual void start(Stub::async_interface& stub, ::grpc::ClientContext& attempt,
                     AttemptDone done) = 0;
  // Post the completion: the reply of the last attempt (checked), or an error. One of them, once.
  virtual void post_reply() = 0;
  virtual void post_error(error_code error) = 0;

  const CallMeta meta;
  const asio::any_io_executor reply_on;
  const Clock::time_point deadline;
  Phase phase = Phase::created;
  unsigned attempts = 0;
  std::unique_ptr<::grpc::ClientContext> context;  // the current attempt's
  std::optional<asio::steady_timer> timer;         // waiting in the queue, or backing off
};

// Binds a Call to one RPC method: its protobuf messages and its completion type.
template <class Method>
class MethodCall final : public Call {
 public:
  using Value = typename Method::Value;

  MethodCall(typename Method::Request request, Completion<Value> done, CallMeta meta_in,
             asio::any_io_executor reply_on_in, Clock::time_point deadline_in)
      : Call(std::move(meta_in), std::move(reply_on_in), deadline_in),
        request_(std::move(request)),
        done_(std::move(done)) {}

  const char* method() const override { return Method::kName; }
  void start(Stub::async_interface& stub, ::grpc::ClientContext& attempt,
             AttemptDone done) override {
    response_.Clear();
    Method::start(stub, &attempt, &request_, &response_, std::move(done));
  }
  void post_reply() override { post(grpc::from_proto(std::move(response_))); }
  void post_error(error_code error) override { post(error); }

 private:
  void post(boost::system::result<Value> result) {
    CABLE_ASSERT(done_);
    asio::post(reply_on, [done = std::move(done_), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  typename Method::Request request_;
  typename Method::Response response_;
  Completion<Value> done_;
};

struct ConnectMethod {
  static constexpr const char* kName = "Connect";
  using Request = anycable::ConnectionRequest;
  using Response = anycable::ConnectionResponse;
  using Value = ConnectionResponse;
  static void start(Stub::async_interface& stub, ::grpc::ClientContext* context,
                    const Request* request, Response* response, AttemptDone done) {
    stub.Connect(context, request, response, std::move(done));
  }
};

struct CommandMethod {
  static constexpr const char* kName = "Command";
  using Request = anycable::CommandMessage;
  using Response = anycable::CommandResponse;
  using Value = CommandResponse;
  static void start(Stub::async_interface& stub, ::grpc::ClientContext* context,
                    const Request* request, Response* response, AttemptDone done) {
    stub.Command(context, request, response, std::move(done));
  }
};

struct DisconnectMethod {
  static constexpr const char* kName = "Disconnect";
  using Request = anycable::DisconnectRequest;
  using Response = anycable::DisconnectResponse;
  using Value = DisconnectResponse;
  static void start(Stub::async_interface& stub, ::grpc::ClientContext* context,
                    const Request* request, Response* response, AttemptDone done) {
    stub.Disconnect(context, request, response, std::move(done));
  }
};

std::chrono::system_clock::time_point system_time(Clock::time_point when) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(when - Clock::now());
}

// gRPC answers RESOURCE_EXHAUSTED itself for a reply over the receive limit (4 MiB by default):
// the application has done the work, so that one is a bad reply, never retried.
bool reply_too_large(const ::grpc::Status& status) {
  return status.error_code() == ::grpc::StatusCode::RESOURCE_EXHAUSTED &&
         status.error_message().starts_with("Received message larger than max");
}

// The channel to `target`, one per target for the life of the process, shared by every backend
// to it (a server has one backend: one channel). Never destroyed, on purpose: gRPC 1.51 (Debian
// 12) runs the callback API on a process-wide completion queue whose threads it starts with the
// first channel that makes a callback call and stops with the last one destroyed; stopping and
// restarting them crashed here (assertion "prior > 0" in grpc_cq_internal_unref on a
// "nexting_thread": 2 to 4 runs in 10 that created, used and destroyed 300 backends in turn,
// none in 15 runs once one channel stayed). An idle channel costs little and holds no
// connection once the application closes it.
std::shared_ptr<::grpc::Channel> channel_to(const std::string& target) {
  static std::mutex mutex;
  static auto* channels = new std::map<std::string, std::shared_ptr<::grpc::Channel>>();
  std::lock_guard lock(mutex);
  auto& channel = (*channels)[target];
  if (!channel) channel = ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials());
  return channel;
}

}  // namespace

class GrpcBackend::Core {
 public:
  Core(const std::string& target, const BackendOptions& options)
      : concurrency_(std::max(1u, options.concurrency)),
        timeout_(options.timeout),
        channel_(channel_to(target)),
        stub_(anycable::RPC::NewStub(channel_)),
        thread_([this] { io_.run(); }) {}

  ~Core() {
    shutdown();
    {
      // Cancelled attempts still come back through gRPC's threads; they touch this object
      // until grpc_attempt_returned().
      std::unique_lock lock(attempts_mutex_);
      attempts_idle_.wait(lock, [this] { return attempts_out_ == 0; });
    }
    work_.reset();  // what is left in io_ ends now: no call is alive, no timer is armed
    thread_.join();
  }

  template <class Method>
  void submit(typename Method::Request request, CallMeta meta, asio::any_io_executor reply_on,
              Completion<typename Method::Value> done) {
    auto call =
        std::make_shared<MethodCall<Method>>(std::move(request), std::move(done), std::move(meta),
                                             std::move(reply_on), Clock::now() + timeout_);
    asio::post(io_, [this, call = std::move(call)]() mutable { admit(std::move(call)); });
  }

  void shutdown() {
    CABLE_ASSERT(std::this_thread::get_id() != thread_.get_id());
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      close();
      closed.set_value();
    });
    closed.get_future().wait();
  }

 private:
  using CallPtr = std::shared_ptr<Call>;

  // Everything below runs on thread_.

  void admit(CallPtr call) {
    call->timer.emplace(io_);
    if (closed_) return fail(call, asio::error::operation_aborted);
    if (active_.size() < concurrency_) {
      CABLE_ASSERT(queue_.empty());  // release() gives every free place to the queue
      return activate(std::move(call));
    }
    call->phase = Call::Phase::queued;
    call->timer->expires_at(call->deadline);
    call->timer->async_wait([this, call](error_code ec) {
      // Still waiting at its deadline: it leaves the queue lazily (release() skips it).
      if (!ec && call->phase == Call::Phase::queued) fail(call, Error::timeout);
    });
    queue_.push_back(std::move(call));
  }

  void activate(CallPtr call) {
    active_.insert(call);
    start_attempt(call);
  }

  void start_attempt(const CallPtr& call) {
    call->phase = Call::Phase::in_flight;
    ++call->attempts;
    call->context = std::make_unique<::grpc::ClientContext>();
    call->context->set_deadline(system_time(call->deadline));
    call->context->AddMetadata("sid", call->meta.sid);
    call->context->AddMetadata("protov", call->meta.protov);
    {
      std::lock_guard lock(attempts_mutex_);
      ++attempts_out_;
    }
    call->start(*stub_->async(), *call->context, [this, call](::grpc::Status status) mutable {
      // On a gRPC thread: hand the call over to thread_, then let the destructor go on. The
      // reference moves into the posted handler, so none is left here.
      asio::post(io_, [this, call = std::move(call), status = std::move(status)]() mutable {
        attempt_done(std::move(call), status);
      });
      grpc_attempt_returned();
    });
  }

  void grpc_attempt_returned() {
    std::lock_guard lock(attempts_mutex_);
    if (--attempts_out_ == 0) attempts_idle_.notify_all();
  }

  void attempt_done(CallPtr call, const ::grpc::Status& status) {
    if (call->phase == Call::Phase::finished) return;  // shutdown() has answered it already
    CABLE_ASSERT(call->phase == Call::Phase::in_flight);
    const auto code = status.error_code();
    if (status.ok()) return succeed(call);
    if (reply_too_large(status)) return fail(call, Error::bad_response);
    if (code == ::grpc::StatusCode::UNAVAILABLE || code == ::grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return retry_or_fail(call, status);
    }
    if (code == ::grpc::StatusCode::DEADLINE_EXCEEDED) return fail(call, Error::timeout);
    if (failure_lines_.allow()) {
      CC_LOG_WARN("RPC {} over gRPC failed: status {}: {}", call->method(), static_cast<int>(code),
                  log::clip(status.error_message()));
    }
    fail(call, Error::call_failed);
  }

  void retry_or_fail(const CallPtr& call, const ::grpc::Status& status) {
    const bool unavailable = status.error_code() == ::grpc::StatusCode::UNAVAILABLE;
    const auto base = unavailable ? kUnavailableBackoff : kExhaustedBackoff;
    const auto delay = std::min<std::chrono::milliseconds>(
        base * (1u << std::min(call->attempts - 1, 10u)), kMaxBackoff);
    if (Clock::now() + delay >= call->deadline) {
      return fail(call, unavailable ? Error::unavailable : Error::overloaded);
    }
    CC_LOG_DEBUG("RPC {} over gRPC: {} (attempt {}), retrying in {} ms", call->method(),
                 unavailable ? "unavailable" : "resource exhausted", call->attempts, delay.count());
    // gRPC waits longer and longer between reconnections (up to 2 minutes) and fails calls
    // at once meanwhile; the next attempt should try the application again now.
    if (unavailable) ::grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
    call->phase = Call::Phase::backing_off;
    call->timer->expires_after(delay);
    call->timer->async_wait([this, call](error_code ec) {
      if (!ec && call->phase == Call::Phase::backing_off) start_attempt(call);
    });
  }

  void succeed(const CallPtr& call) {
    settle(call);
    call->post_reply();
    release(call);
  }

  void fail(const CallPtr& call, error_code error) {
    settle(call);
    call->post_error(error);
    release(call);
  }

  // The timer goes with the phase: a wait still pending ends with operation_aborted, and a
  // finished call holds nothing of io_ however long its last owner keeps it.
  void settle(const CallPtr& call) {
    CABLE_ASSERT(call->phase != Call::Phase::finished);
    call->phase = Call::Phase::finished;
    call->timer.reset();
  }

  // A finished call gives back its place in flight (if it had one) to the head of the queue.
  void release(const CallPtr& call) {
    if (active_.erase(call) == 0) return;
    while (!closed_ && active_.size() < concurrency_ && !queue_.empty()) {
      CallPtr next = std::move(queue_.front());
      queue_.pop_front();
      if (next->phase == Call::Phase::finished) continue;  // timed out while waiting
      next->timer->cancel();
      activate(std::move(next));
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    for (const auto& call : queue_) {
      if (call->phase != Call::Phase::finished) fail(call, asio::error::operation_aborted);
    }
    queue_.clear();
    // fail() erases from active_: iterate over a copy. An attempt still out is cancelled; its
    // gRPC callback comes back later and finds the call finished.
    const std::vector<CallPtr> active(active_.begin(), active_.end());
    for (const auto& call : active) {
      if (call->phase == Call::Phase::in_flight) call->context->TryCancel();
      fail(call, asio::error::operation_aborted);
    }
  }

  const unsigned concurrency_;
  const std::chrono::milliseconds timeout_;
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;

  asio::io_context io_{1};  // before everything that holds a timer on it
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::deque<CallPtr> queue_;           // waiting for a place, FIFO
  std::unordered_set<CallPtr> active_;  // holding a place: in flight or backing off
  bool closed_ = false;
  log::LineBudget failure_lines_;  // call_failed lines: the application decides their rate

  std::mutex attempts_mutex_;  // attempts handed to gRPC and not returned yet
  std::condition_variable attempts_idle_;
  std::size_t attempts_out_ = 0;

  std::thread thread_;  // last: runs io_ once everything above exists
};

boost::system::result<std::unique_ptr<Backend>> GrpcBackend::create(const BackendOptions& options) {
  auto target = grpc::target_from_url(options.url);
  if (!target) return target.error();
  CC_LOG_INFO("RPC over gRPC to {} (concurrency {}, timeout {} ms)", *target, options.concurrency,
              options.timeout.count());
  return std::unique_ptr<Backend>(new GrpcBackend(std::make_unique<Core>(*target, options)));
}

GrpcBackend::GrpcBackend(std::unique_ptr<Core> core) : core_(std::move(core)) {}

GrpcBackend::~GrpcBackend() = default;

void GrpcBackend::connect(ConnectionRequest request, CallMeta meta,
                          boost::asio::any_io_executor reply_on,
                          Completion<ConnectionResponse> done) {
  core_->submit<ConnectMethod>(grpc::to_proto(std::move(request)), std::move(meta),
                               std::move(reply_on), std::move(done));
}

void GrpcBackend::command(CommandMessage request, CallMeta meta,
                          boost::asio::any_io_executor reply_on, Completion<CommandResponse> done) {
  core_->submit<CommandMethod>(grpc::to_proto(std::move(request)), std::move(meta),
                               std::move(reply_on), std::move(done));
}

void GrpcBackend::disconnect(DisconnectRequest request, CallMeta meta,
                             boost::asio::any_io_executor reply_on,
                             Completion<DisconnectResponse> done) {
  core_->submit<DisconnectMethod>(grpc::to_proto(std::move(request)), std::move(meta),
                                  std::move(reply_on), std::move(done));
}

void GrpcBackend::shutdown() { core_->shutdown(); }

}  // namespace cablecast::rpc
