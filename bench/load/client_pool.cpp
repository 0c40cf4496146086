#include "client_pool.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>
#include <future>
#include <thread>

#include "clock.hpp"
#include "ws_url.hpp"

namespace cablecast::bench {

namespace asio = boost::asio;

std::string benchmark_identifier(std::string_view stream_id) {
  std::string id = R"({"channel":"BenchmarkChannel","id":")";
  id.append(stream_id).append("\"}");
  return id;
}

namespace {

std::string subscribe_command(const std::string& identifier) {
  std::string out = R"({"command":"subscribe","identifier":")";
  for (char c : identifier) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.append("\"}");
  return out;
}

std::string request_head(const WsUrl& url, bool ext_protocol) {
  const std::string authority = url.host + ":" + std::to_string(url.port);
  return "GET " + url.target + " HTTP/1.1\r\nHost: " + authority +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: " +
         (ext_protocol ? "actioncable-v1-ext-json, " : std::string()) +
         "actioncable-v1-json, actioncable-unsupported\r\n"
         "Origin: http://" +
         authority + "\r\nSec-WebSocket-Key: ";
}

}  // namespace

boost::system::result<std::unique_ptr<ClientPool>> ClientPool::create(const CommonOptions& options,
                                                                      ClientLayout layout,
                                                                      ClientObserver& observer) {
  auto url = parse_ws_url(options.url);
  if (!url) return url.error();
  asio::io_context resolver_io;
  asio::ip::tcp::resolver resolver(resolver_io);
  boost::system::error_code ec;
  auto resolved = resolver.resolve(url->host, std::to_string(url->port), ec);
  if (ec) return ec;
  if (resolved.empty())
    return boost::system::errc::make_error_code(boost::system::errc::host_unreachable);

  std::unique_ptr<ClientPool> pool(new ClientPool(options));
  Target& target = pool->target_;
  target.server = resolved.begin()->endpoint();
  target.request_head = request_head(*url, options.ext_protocol);
  target.ext_protocol = options.ext_protocol;
  const auto server_address = target.server.address();
  if (options.source_ips > 0 && server_address.is_v4() && server_address.is_loopback()) {
    for (unsigned i = 0; i < options.source_ips && i < 254; ++i) {
      target.sources.push_back(asio::ip::make_address_v4(0x7F000001u + i));
    }
  }
  for (const auto& id : layout.stream_ids) {
    target.identifiers.push_back(benchmark_identifier(id));
    target.subscribe_commands.push_back(subscribe_command(target.identifiers.back()));
  }

  const unsigned threads = std::max(1u, options.threads);
  const unsigned per_worker = (options.connect_concurrency + threads - 1) / threads;
  for (unsigned i = 0; i < threads; ++i) {
    pool->workers_.push_back(std::make_unique<Worker>(i, target, observer, pool->tally_, per_worker,
                                                      0x9E3779B97F4A7C15ull * (i + 1)));
  }
  pool->clients_.reserve(layout.clients);
  pool->worker_of_client_.reserve(layout.clients);
  for (std::uint32_t i = 0; i < layout.clients; ++i) {
    const unsigned w = layout.worker_of(i) % threads;
    pool->clients_.push_back(&pool->workers_[w]->add_client(i, layout.stream_of(i)));
    pool->worker_of_client_.push_back(w);
  }
  for (auto& worker : pool->workers_) worker->start();
  return pool;
}

ClientPool::~ClientPool() {
  for (auto& worker : workers_) worker->stop();
}

ConnectOutcome ClientPool::connect(std::uint32_t first, std::uint32_t last) {
  return connect_range(first, last, /*again=*/false);
}

void ClientPool::cut(std::uint32_t first, std::uint32_t last) {
  on_each_worker([&](Worker& worker) {
    for (std::uint32_t i = first; i < last; ++i) {
      if (worker_of_client_[i] == worker.index()) clients_[i]->cut();
    }
  });
}

ConnectOutcome ClientPool::reconnect(std::uint32_t first, std::uint32_t last) {
  return connect_range(first, last, /*again=*/true);
}

ConnectOutcome ClientPool::connect_range(std::uint32_t first, std::uint32_t last, bool again) {
  ConnectOutcome out;
  out.attempted = last - first;
  const auto subscribed_before = tally_.subscribed_count();
  const auto failed_before = tally_.failed_count();
  const std::int64_t start = now_ns();
  std::vector<std::vector<Client*>> batches(workers_.size());
  for (std::uint32_t i = first; i < last; ++i) batches[worker_of_client_[i]].push_back(clients_[i]);
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    asio::post(workers_[w]->io(),
               [worker = workers_[w].get(), batch = std::move(batches[w]), again] {
                 if (again) {
                   for (Client* client : batch) client->restart();
                 }
                 worker->connect(batch);
               });
  }
  const std::int64_t deadline = start + static_cast<std::int64_t>(options_.connect_timeout_s * 1e9);
  while (true) {
    out.subscribed = static_cast<std::uint32_t>(tally_.subscribed_count() - subscribed_before);
    out.failed = static_cast<std::uint32_t>(tally_.failed_count() - failed_before);
    if (out.subscribed + out.failed >= out.attempted || now_ns() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (out.subscribed + out.failed < out.attempted) {
    // Deadline: stop the stragglers (and the queue) so the run measures a settled set.
    on_each_worker([](Worker& worker) { worker.abandon_connecting(); });
    out.subscribed = static_cast<std::uint32_t>(tally_.subscribed_count() - subscribed_before);
    out.failed = out.attempted - out.subscribed;
    out.failures = std::to_string(out.failed) + " of " + std::to_string(out.attempted) +
                   " not subscribed within " + fmt::format("{:g}", options_.connect_timeout_s) +
                   " s";
  }
  const std::int64_t end = out.subscribed > 0 ? tally_.last_subscribed_ns() : now_ns();
  out.seconds = seconds_between(start, std::max(end, start));
  if (auto reasons = tally_.failure_summary(); !reasons.empty()) {
    out.failures = out.failures.empty() ? reasons : out.failures + "; " + reasons;
  }
  return out;
}

void ClientPool::on_each_worker(const std::function<void(Worker&)>& fn) {
  std::vector<std::promise<void>> done(workers_.size());
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    asio::post(workers_[w]->io(), [&fn, &done, w, worker = workers_[w].get()] {
      fn(*worker);
      done[w].set_value();
    });
  }
  for (auto& d : done) d.get_future().wait();
}

void ClientPool::post(std::uint32_t client, std::function<void(Client&)> fn) {
  asio::post(workers_[worker_of_client_[client]]->io(),
             [c = clients_[client], fn = std::move(fn)] { fn(*c); });
}

}  // namespace cablecast::bench
