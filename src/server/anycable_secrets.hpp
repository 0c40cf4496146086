#pragma once
// AnyCable's one-secret setup, apart from the rest of anycable_setup.hpp so that a program that
// prints its settings (`cablecast config`) resolves the keys as Server::start will, without
// reaching the session and RPC headers.
#include <cablecast/anycable_options.hpp>

namespace cablecast::server {

// Fills rpc.secret, broadcast.key, jwt.secret and streams.secret from `secret` where empty.
// Turbo's native verification is not turned on by `secret` alone (as in AnyCable, where it
// takes --turbo_streams): only turbo_secret or secret_key_base do.
// Every key left empty is derived from `secret` the way anycable-go and anycable-rails derive
// it, so an app set up for AnyCable configures nothing else.
void resolve_anycable_secrets(AnyCableOptions& options);

}  // namespace cablecast::server
