#pragma once
// What one session keeps to speak to the application over RPC (AnyCable's contract): the env
// every call carries (the upgrade URL, the forwarded headers, the connection state); the
// identifiers are the session's own text (Session::identifiers_json). Allocated only on servers
// with an RPC backend, so plain sessions stay small.
#include <boost/json/object.hpp>
#include <string>

#include "rpc/backend.hpp"

namespace cablecast::session {

// A reply's state changes merged into `state` key by key; an empty value deletes the key
// (AnyCable's rule for cstate and istate).
void merge_state(rpc::StringMap& state, const rpc::StringMap& changes);

struct RpcLink {
  rpc::Backend& backend;
  std::string url;         // absolute: http(s)://host/cable?query, as Rails' request.url
  rpc::StringMap headers;  // forwarded request headers, lower-case names, plus REMOTE_ADDR
  rpc::StringMap cstate;   // connection state, kept between calls
  bool used = false;       // a call was made: the application must hear of the end

  // The env of a call: everything above plus the subscription's state (if any).
  rpc::Env env(const rpc::StringMap* istate = nullptr) const;
};

}  // namespace cablecast::session
