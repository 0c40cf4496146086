#include "server/anycable_setup.hpp"

#include "auth/secrets.hpp"
#include "core/log.hpp"
#include "rpc/error.hpp"
#include "rpc/grpc/grpc_backend.hpp"
#include "rpc/http_backend.hpp"
#include "streams/signed_stream_channel.hpp"

namespace cablecast::server {

void resolve_anycable_secrets(AnyCableOptions& o) {
  if (o.secret.empty()) return;
  const auth::DerivedSecrets derived = auth::derive_from_secret(o.secret);
  auto fill = [](std::string& key, const std::string& value) {
    if (key.empty()) key = value;
  };
  fill(o.rpc.secret, derived.rpc_secret);
  fill(o.broadcast.key, derived.broadcast_key);
  fill(o.jwt.secret, derived.jwt_secret);
  fill(o.streams.secret, derived.streams_secret);
}

void install_signed_stream_channels(const SignedStreamsOptions& o,
                                    session::ChannelRegistry& channels) {
  if (!o.secret.empty() || o.public_streams) {
    auto added = channels.emplace(
        "$pubsub",
        streams::pubsub_channel_class(o.secret, o.public_streams,
                                      StreamOptions{.whisper = o.whisper, .presence = o.presence}));
    if (added.second) {
      CC_LOG_INFO("$pubsub streams served natively ({})", o.secret.empty() ? "public names only"
                                                          : o.public_streams
                                                              ? "signed and public names"
                                                              : "signed names");
    }
  }
  std::string turbo_key = o.turbo_secret;
  const char* source = "--turbo-streams-secret";
  if (turbo_key.empty() && !o.secret_key_base.empty()) {
    const auto digest = o.turbo_key_digest == "sha1" ? auth::Digest::sha1 : auth::Digest::sha256;
    turbo_key = auth::turbo_signing_key(o.secret_key_base, digest);
    source = "the key derived from --secret-key-base";
  }
  if (turbo_key.empty()) return;  // Turbo::StreamsChannel goes to RPC like any app channel
  auto added = channels.emplace("Turbo::StreamsChannel",
                                streams::turbo_streams_channel_class(std::move(turbo_key)));
  if (added.second) CC_LOG_INFO("Turbo::StreamsChannel served natively, verified with {}", source);
}

boost::system::result<std::unique_ptr<rpc::Backend>> make_rpc_backend(const RpcOptions& o) {
  rpc::BackendOptions options{o.url, o.secret, o.concurrency, o.timeout};
  if (o.url.starts_with("http://") || o.url.starts_with("https://")) {
    auto backend = rpc::HttpBackend::create(std::move(options));
    if (!backend) {
      CC_LOG_ERROR("--rpc-url: {}", backend.error().message());
      return backend.error();
    }
    CC_LOG_INFO("RPC over HTTP to {} ({} calls in flight at most, {} ms per call)",
                log::clip(o.url), o.concurrency, o.timeout.count());
    return std::unique_ptr<rpc::Backend>(std::move(*backend));
  }
  if (o.url.starts_with("grpc://")) {
    auto backend = rpc::GrpcBackend::create(options);
    if (!backend) {
      CC_LOG_ERROR("--rpc-url: {}", backend.error().message());
      return backend.error();
    }
    CC_LOG_INFO("RPC over gRPC to {} ({} calls in flight at most, {} ms per call)",
                log::clip(o.url), o.concurrency, o.timeout.count());
    return std::move(*backend);
  }
  CC_LOG_ERROR("--rpc-url {}: no RPC transport for this scheme", log::clip(o.url));
  return make_error_code(rpc::Error::bad_url);
}

}  // namespace cablecast::server
