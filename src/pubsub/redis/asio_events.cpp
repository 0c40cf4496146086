#include "pubsub/redis/asio_events.hpp"

#include <hiredis/async.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <optional>

namespace cablecast::pubsub::redis {
namespace {

namespace asio = boost::asio;
using Descriptor = asio::posix::basic_stream_descriptor<asio::io_context::executor_type>;

// One per attached context. Shared with the pending waits, so a wait that completes after
// hiredis freed the context finds `context == nullptr` instead of freed memory.
struct Watch {
  redisAsyncContext* context = nullptr;
  std::optional<Descriptor> socket;
  bool want_read = false;
  bool want_write = false;
  bool read_pending = false;  // an async_wait(read) is outstanding
  bool write_pending = false;
};

void arm_read(const std::shared_ptr<Watch>& watch);
void arm_write(const std::shared_ptr<Watch>& watch);

void arm_read(const std::shared_ptr<Watch>& watch) {
  if (watch->read_pending || !watch->want_read || !watch->socket) return;
  watch->read_pending = true;
  watch->socket->async_wait(Descriptor::wait_read, [watch](boost::system::error_code ec) {
    watch->read_pending = false;
    if (ec || !watch->context || !watch->want_read) return;
    // May free the context (EOF, error): the cleanup hook then clears watch->context/socket.
    redisAsyncHandleRead(watch->context);
    arm_read(watch);
  });
}

void arm_write(const std::shared_ptr<Watch>& watch) {
  if (watch->write_pending || !watch->want_write || !watch->socket) return;
  watch->write_pending = true;
  watch->socket->async_wait(Descriptor::wait_write, [watch](boost::system::error_code ec) {
    watch->write_pending = false;
    if (ec || !watch->context || !watch->want_write) return;
    redisAsyncHandleWrite(watch->context);
    arm_write(watch);
  });
}

// The hooks receive ev.data: a heap-held shared_ptr, deleted by cleanup.
std::shared_ptr<Watch>& watch_of(void* data) { return *static_cast<std::shared_ptr<Watch>*>(data); }

void add_read(void* data) {
  auto& watch = watch_of(data);
  watch->want_read = true;
  arm_read(watch);
}

void del_read(void* data) { watch_of(data)->want_read = false; }

void add_write(void* data) {
  auto& watch = watch_of(data);
  watch->want_write = true;
  arm_write(watch);
}

void del_write(void* data) { watch_of(data)->want_write = false; }

// hiredis is about to free the context and close the fd.
void cleanup(void* data) {
  auto* holder = static_cast<std::shared_ptr<Watch>*>(data);
  Watch& watch = **holder;
  watch.context = nullptr;
  watch.want_read = watch.want_write = false;
  if (watch.socket) {
    // release() cancels the outstanding waits (they complete with operation_aborted and find
    // context == nullptr) and hands the fd back without closing it: hiredis closes it.
    watch.socket->release();
    watch.socket.reset();
  }
  delete holder;
}

}  // namespace

bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io) {
  if (context->ev.data != nullptr) return false;
  auto watch = std::make_shared<Watch>();
  watch->context = context;
  watch->socket.emplace(io.get_executor(), context->c.fd);
  context->ev.data = new std::shared_ptr<Watch>(std::move(watch));
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  return true;
}

}  // namespace cablecast::pubsub::redis
