#pragma once
// What Server::start sets up for AnyCable compatibility, whatever the options came from: the
// keys derived from the one secret, and the built-in channels served natively.
#include <boost/system/result.hpp>
#include <cablecast/anycable_options.hpp>
#include <memory>

#include "rpc/backend.hpp"
#include "server/anycable_secrets.hpp"
#include "session/environment.hpp"

namespace cablecast::server {

// Registers `$pubsub` (with a streams secret or public streams) and `Turbo::StreamsChannel`
// (with a Turbo key) unless the application registered a channel of that name itself; logs
// which are served natively (never a key).
void install_signed_stream_channels(const SignedStreamsOptions& options,
                                    session::ChannelRegistry& channels);

// The application's RPC client for `options.url` (http://, https:// or grpc://). Errors: a URL
// no transport can call (logged with the reason).
boost::system::result<std::unique_ptr<rpc::Backend>> make_rpc_backend(const RpcOptions& options);

}  // namespace cablecast::server
