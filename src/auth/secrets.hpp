#pragma once
// Keys derived from the application's secrets, exactly as AnyCable and Rails derive them, so an
// app configured for AnyCable (one `secret`) or for Rails (`secret_key_base`) needs no new key.
#include <string>
#include <string_view>

#include "auth/hmac.hpp"

namespace cablecast::auth {

// What AnyCable derives from its `--secret` when a key is not given explicitly.
struct DerivedSecrets {
  std::string broadcast_key;   // Authorization: Bearer key of POST /_broadcast
  std::string rpc_secret;      // Authorization: Bearer key of HTTP RPC requests
  std::string jwt_secret;      // HMAC key of JWT identification tokens
  std::string streams_secret;  // MessageVerifier key of $pubsub signed stream names
};

DerivedSecrets derive_from_secret(std::string_view secret);

// The raw (64-byte) key of Turbo's signed stream verifier when the Rails app did not configure
// one: Rails.application.key_generator.generate_key("turbo/signed_stream_verifier_key"), i.e.
// PBKDF2-HMAC(digest, password = secret_key_base, salt, 1000 iterations, 64 bytes). `digest` is
// the app's key_generator_hash_digest_class: SHA256 under `load_defaults "7.0"` or later, SHA1
// for apps still on older defaults.
std::string turbo_signing_key(std::string_view secret_key_base, Digest digest);

}  // namespace cablecast::auth
