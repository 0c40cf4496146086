#include "session/rpc_link.hpp"

namespace cablecast::session {

void merge_state(rpc::StringMap& state, const rpc::StringMap& changes) {
  for (const auto& [key, value] : changes) {
    if (value.empty()) {
      state.erase(key);
    } else {
      state.insert_or_assign(key, value);
    }
  }
}

rpc::Env RpcLink::env(const rpc::StringMap* istate) const {
  rpc::Env env;
  env.url = url;
  env.headers = headers;
  env.cstate = cstate;
  if (istate) env.istate = *istate;
  return env;
}

}  // namespace cablecast::session
