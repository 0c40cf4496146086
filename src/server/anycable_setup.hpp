#pragma once
// What Server::start sets up for AnyCable compatibility, whatever the options came from: the
// keys derived from the one secret, and the built-in channels served natively.
#include <boost/system/result.hpp>
#include <cablecast/anycable_options.hpp>
#include <memory>

#include "rpc/backend.hpp"
#include "session/environment.hpp"

namespace cablecast::server {

// Fills rpc.secret, broadcast.key, jwt.secret and streams.secret from `secret` where empty.
// Turbo's native verification is not turned on by `secret` alone (as in AnyCable, where it
// takes --turbo_streams): only turbo_secret or secret_key_base do.
// AnyCable's one-secret setup: every key left empty is derived from `secret` the way
// anycable-go and anycable-rails derive it, so an app set up for AnyCable configures nothing
// else.
void resolve_anycable_secrets(AnyCableOptions& options);

// Registers `$pubsub` (with a streams secret or public streams) and `Turbo::StreamsChannel`
// (with a Turbo key) unless the application registered a channel of that name itself; logs
// which are served natively (never a key).
void install_signed_stream_channels(const SignedStreamsOptions& options,
                                    session::ChannelRegistry& channels);

// The application's RPC client for `options.url` (http://, https:// or grpc://). Errors: a URL
// no transport can call (logged with the reason).
boost::system::result<std::unique_ptr<rpc::Backend>> make_rpc_backend(const RpcOptions& options);

}  // namespace cablecast::server
