#include "broker/publish.hpp"

#include "session/environment.hpp"

namespace cablecast::session {

boost::system::result<void> publish(Environment& env, std::string_view stream,
                                    std::string_view message, const broadcast::Meta& meta) {
  return broker::publish(env.broker.history, env.adapter, stream, message, meta);
}

}  // namespace cablecast::session
