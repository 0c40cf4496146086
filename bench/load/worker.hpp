#pragma once
// One event loop of the load generator: an io_context on its own thread, the clients it owns,
// and what they share (read scratch buffer, JSON reader, mask generator). Clients never touch
// another worker's data, so the hot path takes no lock.
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ready_set.hpp"
#include "server_frame.hpp"

namespace cablecast::bench {

class Client;

// What every client of a run connects to and says; built once, read by all workers.
struct Target {
  boost::asio::ip::tcp::endpoint server;
  std::string request_head;  // the upgrade request up to "Sec-WebSocket-Key: "
  std::vector<boost::asio::ip::address>
      sources;                                  // bind() round-robin by client index; may be empty
  std::vector<std::string> identifiers;         // per stream: the identifier JSON text
  std::vector<std::string> subscribe_commands;  // per stream: the whole subscribe command
  bool ext_protocol = false;  // actioncable-v1-ext-json offered (and required in the answer)
};

// What a benchmark mode does with its clients. Called on the client's worker thread.
class ClientObserver {
 public:
  virtual void on_subscribed(Client& client) = 0;
  // {"identifier":…,"message":{…}} for a subscribed client.
  virtual void on_message(Client& client, const ServerFrame& frame) = 0;
  // Extended protocol: a client that came back with its sid was restored and its history
  // request answered (`history_confirmed`: confirm_history; false: reject_history). Its
  // subscription is live again without a new subscribe (on_subscribed is not called).
  virtual void on_restored(Client& /*client*/, bool /*history_confirmed*/) {}

 protected:
  ~ClientObserver() = default;
};

// Run-wide tallies the workers update and the main thread reads.
class ConnectionTally {
 public:
  void subscribed(std::int64_t now_ns);
  void failed(std::string_view reason, bool was_subscribed);
  std::uint64_t subscribed_count() const { return subscribed_.load(); }
  std::uint64_t failed_count() const { return failed_.load(); }
  std::uint64_t dropped_count() const { return dropped_.load(); }
  std::int64_t last_subscribed_ns() const { return last_subscribed_ns_.load(); }
  // "reason xN; reason xM" for the report; empty when nothing failed.
  std::string failure_summary() const;

 private:
  std::atomic<std::uint64_t> subscribed_{0};
  std::atomic<std::uint64_t> failed_{0};   // never got subscribed
  std::atomic<std::uint64_t> dropped_{0};  // lost after being subscribed
  std::atomic<std::int64_t> last_subscribed_ns_{0};
  mutable std::mutex reasons_mutex_;  // failures are rare: a lock is fine here
  std::vector<std::pair<std::string, std::uint64_t>> reasons_;
};

class Worker {
 public:
  Worker(unsigned index, const Target& target, ClientObserver& observer, ConnectionTally& tally,
         unsigned max_connecting, std::uint64_t seed);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start(): creates a client owned by this worker.
  Client& add_client(std::uint32_t index, std::uint32_t stream);
  void start();  // runs the loop on a new thread
  void stop();   // closes every client on the loop thread, then ends and joins it

  boost::asio::io_context& io() { return io_; }
  unsigned index() const { return index_; }

  // On the loop thread: queues clients to connect, at most `max_connecting` at once.
  void connect(std::vector<Client*> clients);
  // On the loop thread, at the connect deadline: drops the queue and fails every client still
  // connecting, so none subscribes later in the middle of a measurement.
  void abandon_connecting();

  // For this worker's clients (loop thread).
  const Target& target() const { return target_; }
  std::span<char> scratch() { return scratch_; }
  ServerFrameReader& reader() { return reader_; }
  ReadySet& ready_set() { return ready_; }
  // A client that stopped reading with bytes left (fairness) reads again after the loop's
  // other ready work.
  void read_again(Client& client);
  std::array<std::uint8_t, 4> next_mask();
  std::string next_key();  // a fresh Sec-WebSocket-Key
  void client_subscribed(Client& client);
  // A restored client whose history request was answered (counts as subscribed again).
  void client_restored(Client& client, bool history_confirmed);
  void client_failed(Client& client, std::string_view reason, bool was_subscribed);
  void client_message(Client& client, const ServerFrame& frame) {
    observer_.on_message(client, frame);
  }

 private:
  void pump();
  std::uint64_t next_random();

  const unsigned index_;
  const Target& target_;
  ClientObserver& observer_;
  ConnectionTally& tally_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  ReadySet ready_{io_};
  std::vector<std::unique_ptr<Client>> clients_;  // destroyed before io_ (declared after it)
  std::vector<char> scratch_;
  ServerFrameReader reader_;
  std::deque<Client*> pending_;
  unsigned connecting_ = 0;
  unsigned max_connecting_;
  bool pumping_ = false;
  std::uint64_t random_state_;
  std::thread thread_;
};

}  // namespace cablecast::bench
