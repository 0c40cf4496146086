#pragma once
// Settings that make Cablecast a drop-in server for apps set up for AnyCable: RPC to the
// application (its channels stay in Rails or Node), the HTTP broadcast API, JWT identification
// and signed / Turbo streams. Every key is off (empty) by default; `secret` fills the keys not
// given explicitly the way AnyCable derives them (see resolve_anycable_secrets).
#include <cablecast/defaults.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace cablecast {

struct RpcOptions {
  // http://host:port/base or https://… (AnyCable's HTTP RPC: POST base/connect|command|
  // disconnect), or grpc://host:port (anycable.RPC). Empty: no RPC; channels not registered
  // in C++ are rejected.
  std::string url;
  std::string secret;  // HTTP RPC: "Authorization: Bearer <secret>"; default derived from secret
  unsigned concurrency = 28;  // calls in flight at most (AnyCable's default)
  // Per call, queueing and retries included.
  std::chrono::milliseconds timeout = defaults::rpc_timeout;
  // Request headers forwarded in env.headers (lower-case names), besides REMOTE_ADDR.
  std::vector<std::string> forward_headers{"cookie"};
};

struct BroadcastApiOptions {
  // Bearer key of POST <path> on the main port. Empty (and no secret to derive it from):
  // the endpoint is off (404), never open.
  std::string key;
  std::string path = "/_broadcast";
  std::size_t max_body_bytes = 1024 * 1024;  // larger bodies: 413
  // With --pubsub redis, publications PUBLISHed on this Redis channel are broadcast too (what
  // anycable-rails' redis broadcast adapter sends). Empty: off.
  std::string redis_channel = "__anycable__";
};

struct JwtOptions {
  std::string secret;         // HMAC key (HS256/384/512); default: secret. Empty: JWT off
  std::string param = "jid";  // query parameter; the header is X-<PARAM> (X-JID)
  bool enforce = false;       // a connection without a token is refused (unauthorized)
};

struct SignedStreamsOptions {
  // Key of {"channel":"$pubsub","signed_stream_name":…} (Rails MessageVerifier, SHA256, JSON);
  // default: secret. Empty and no public streams: $pubsub is not served natively.
  std::string secret;
  bool public_streams = false;  // also {"channel":"$pubsub","stream_name":…}, unsigned
  // Turbo::StreamsChannel natively: the raw verifier key (as AnyCable's turbo_streams_secret)…
  std::string turbo_secret;
  // …or the key Rails derives from secret_key_base (PBKDF2, 1000 iterations, salt
  // "turbo/signed_stream_verifier_key"). Neither given: Turbo::StreamsChannel goes to RPC.
  std::string secret_key_base;
  std::string turbo_key_digest = "sha256";  // "sha1" for apps without Rails 7.0 defaults
  bool presence = true;  // presence on signed $pubsub streams (public ones always have it)
  bool whisper = false;  // whispers on signed $pubsub streams (public ones always have them)
};

// AnyCable's extended protocol (actioncable-v1-ext-json): stream history, resumable sessions,
// presence, required pongs. With --pubsub redis the state lives in Redis (every node sees it);
// otherwise in this process.
struct ExtendedProtocolOptions {
  std::size_t history_limit = 100;  // messages kept per stream; 0: history off
  std::chrono::seconds history_ttl = defaults::history_ttl;  // how long a message is kept
  // How long a closed ext session can be restored.
  std::chrono::seconds sessions_ttl = defaults::sessions_ttl;
  std::chrono::seconds presence_ttl = defaults::presence_ttl;  // a closed session stays present
  std::chrono::seconds pong_timeout = defaults::pong_timeout;  // ext clients must pong within it
};

struct AnyCableOptions {
  // The one secret anycable-rails' setup writes: every key above left empty is derived from it
  // (broadcast key = hex HMAC-SHA256(secret, "broadcast-cable"), RPC secret from "rpc-cable",
  // JWT and streams secrets = secret).
  std::string secret;
  RpcOptions rpc;
  BroadcastApiOptions broadcast;
  JwtOptions jwt;
  SignedStreamsOptions streams;
  ExtendedProtocolOptions extended;
};

}  // namespace cablecast
