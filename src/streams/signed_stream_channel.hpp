#pragma once
// Channels that stream from a name the application signed (protocol.md §7.7, §8.1):
//
//   {"channel":"$pubsub","signed_stream_name":"<signed>"}            AnyCable's signed streams
//   {"channel":"$pubsub","stream_name":"chat/42"}                    only with public streams on
//   {"channel":"Turbo::StreamsChannel","signed_stream_name":"<signed>"}   turbo-rails
//
// A valid name -> stream_from(name) (confirmed once the stream is live); anything else ->
// reject(). The server registers the classes built by pubsub_channel_class and
// turbo_streams_channel_class; each carries its configuration inside its factory.
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cablecast/channel.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "auth/hmac.hpp"

namespace cablecast::streams {

inline constexpr std::string_view kPubSubChannel = "$pubsub";
inline constexpr std::string_view kTurboStreamsChannel = "Turbo::StreamsChannel";

// How one signed-stream channel class decides. Shared (read-only) by all its subscriptions.
struct SignedStreamPolicy {
  std::string key;                             // MessageVerifier key (raw bytes)
  auth::Digest digest = auth::Digest::sha256;  // both AnyCable and Turbo sign with SHA256
  bool allow_public_streams = false;           // accept an unsigned `stream_name`
  // Whispers and presence on the stream (AnyCable: public streams have both, signed ones
  // presence unless --streams-presence=false and whispers only with --streams-whisper, Turbo
  // streams neither).
  StreamOptions signed_options{};
  StreamOptions public_options{.whisper = true, .presence = true};
};

// Why a subscription asked for no acceptable stream (besides a SignedStreamError).
enum class StreamRequestError {
  no_stream = 1,       // neither a signed nor (allowed) public stream name
  param_not_a_string,  // `signed_stream_name` or `stream_name` present but not a string
  public_streams_off,  // `stream_name` without public streams allowed
};

const boost::system::error_category& stream_request_category();

inline boost::system::error_code make_error_code(StreamRequestError e) {
  return {static_cast<int>(e), stream_request_category()};
}

// The stream a subscription's params ask for, as AnyCable's streams controller decides: a
// non-empty `signed_stream_name` is verified (and `stream_name` then ignored); otherwise a
// non-empty `stream_name` is taken as is when public streams are allowed.
boost::system::result<std::string> requested_stream(const boost::json::object& params,
                                                    const SignedStreamPolicy& policy);

class SignedStreamChannel final : public Channel {
 public:
  explicit SignedStreamChannel(std::shared_ptr<const SignedStreamPolicy> policy);

 protected:
  void subscribed() override;

 private:
  std::shared_ptr<const SignedStreamPolicy> policy_;
};

// AnyCable's `$pubsub` (name configurable, as its `pubsub_channel` setting): signed names
// verified with the streams secret (AnyCable's --streams_secret, default --secret), unsigned
// `stream_name` accepted only when `allow_public_streams`.
detail::ChannelClass pubsub_channel_class(std::string streams_secret, bool allow_public_streams,
                                          StreamOptions signed_options = {.presence = true},
                                          std::string name = std::string(kPubSubChannel));

// turbo-rails' `Turbo::StreamsChannel`: signed names only, verified with `verifier_key`: the
// raw secret the app set as config.turbo.signed_stream_verifier_key (AnyCable's
// --turbo_streams_secret), or auth::turbo_signing_key(secret_key_base, digest).
detail::ChannelClass turbo_streams_channel_class(std::string verifier_key);

}  // namespace cablecast::streams

template <>
struct boost::system::is_error_code_enum<cablecast::streams::StreamRequestError> : std::true_type {
};
