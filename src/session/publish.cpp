#include "broker/publish.hpp"

#include "session/environment.hpp"

namespace cablecast::session {

boost::system::result<void> publish(Environment& env, std::string_view stream,
                                    std::string_view message, const broadcast::Meta& meta) {
  auto sent = broker::publish(env.broker.history, env.adapter, stream, message, meta);
  if (sent) env.metrics.broadcasts.add(metrics::BroadcastSource::channel);
  return sent;
}

}  // namespace cablecast::session
