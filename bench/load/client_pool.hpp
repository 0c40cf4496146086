#pragma once
// Every client of a run, spread over the workers (event loops), plus what the modes need from
// the main thread: connect a range of clients and wait, run something on each loop and wait,
// post work to the loop that owns a client.
#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client.hpp"
#include "options.hpp"
#include "worker.hpp"

namespace cablecast::bench {

struct ConnectOutcome {
  std::uint32_t attempted = 0;
  std::uint32_t subscribed = 0;  // of the attempted ones
  std::uint32_t failed = 0;
  double seconds = 0;    // from the first connect() to the last confirm_subscription
  std::string failures;  // reasons with counts, empty when none failed
};

// How clients are laid out: which stream each one subscribes to, which loop owns it.
struct ClientLayout {
  std::uint32_t clients = 0;
  std::vector<std::string> stream_ids;  // BenchmarkChannel "id" per stream
  std::function<std::uint32_t(std::uint32_t client)> stream_of;
  std::function<unsigned(std::uint32_t client)> worker_of;

  // `clients` on one stream, spread round-robin over `threads` loops.
  static ClientLayout single_stream(std::uint32_t clients, std::string stream_id,
                                    unsigned threads) {
    threads = threads == 0 ? 1 : threads;
    return {clients,
            {std::move(stream_id)},
            [](std::uint32_t) { return 0u; },
            [threads](std::uint32_t i) { return i % threads; }};
  }
};

class ClientPool {
 public:
  // Resolves the URL, creates every client (unconnected) and starts the loops.
  static boost::system::result<std::unique_ptr<ClientPool>> create(const CommonOptions& options,
                                                                   ClientLayout layout,
                                                                   ClientObserver& observer);
  ~ClientPool();  // closes every client and joins the loops

  // Connects clients [first, last) and waits until each is subscribed or failed (or the
  // connect timeout passed).
  ConnectOutcome connect(std::uint32_t first, std::uint32_t last);
  // Drops clients [first, last) as a network failure would (Client::cut) and waits until done.
  void cut(std::uint32_t first, std::uint32_t last);
  // Connects clients [first, last) again after cut(): ext clients restore their session and
  // count once their history request is answered. Waits as connect() does.
  ConnectOutcome reconnect(std::uint32_t first, std::uint32_t last);

  // Runs `fn` on every loop (on its thread) and waits for all of them.
  void on_each_worker(const std::function<void(Worker&)>& fn);
  // Runs `fn` on the loop that owns `client`.
  void post(std::uint32_t client, std::function<void(Client&)> fn);

  Client& client(std::uint32_t index) { return *clients_[index]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(clients_.size()); }
  std::size_t worker_count() const { return workers_.size(); }
  // Which loop owns `client` (fixed at creation, so any thread may ask).
  unsigned worker_index(std::uint32_t client) const { return worker_of_client_[client]; }
  const ConnectionTally& tally() const { return tally_; }

 private:
  ClientPool(const CommonOptions& options) : options_(options) {}
  ConnectOutcome connect_range(std::uint32_t first, std::uint32_t last, bool again);

  CommonOptions options_;
  Target target_;
  ConnectionTally tally_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Client*> clients_;            // by index; owned by the workers
  std::vector<unsigned> worker_of_client_;  // by index
};

// {"channel":"BenchmarkChannel","id":"<id>"}
std::string benchmark_identifier(std::string_view stream_id);

}  // namespace cablecast::bench
