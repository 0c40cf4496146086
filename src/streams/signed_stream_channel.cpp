#include "streams/signed_stream_channel.hpp"

#include <utility>

#include "auth/message_verifier.hpp"
#include "core/error_category.hpp"
#include "core/log.hpp"

namespace cablecast::streams {
namespace {

const char* describe(StreamRequestError e) {
  switch (e) {
    case StreamRequestError::no_stream:
      return "no signed_stream_name (or allowed stream_name) in the identifier";
    case StreamRequestError::param_not_a_string:
      return "signed_stream_name or stream_name is not a string";
    case StreamRequestError::public_streams_off:
      return "unsigned stream_name given but public streams are not allowed";
  }
  return nullptr;
}

// A param that must be a string when present. nullptr: absent; error: present, another type.
boost::system::result<const boost::json::string*> string_param(const boost::json::object& params,
                                                               std::string_view key) {
  const auto* value = params.if_contains(key);
  if (!value) return nullptr;
  if (!value->is_string()) return StreamRequestError::param_not_a_string;
  return &value->get_string();
}

detail::ChannelClass make_class(std::string name, SignedStreamPolicy policy) {
  detail::ChannelClass cls;
  cls.stream_prefix = detail::rails_channel_name(name);
  cls.name = std::move(name);
  cls.make = [policy = std::make_shared<const SignedStreamPolicy>(std::move(policy))] {
    return std::unique_ptr<Channel>(std::make_unique<SignedStreamChannel>(policy));
  };
  return cls;  // no actions: clients only subscribe
}

}  // namespace

const boost::system::error_category& stream_request_category() {
  static const core::ErrorCategory<StreamRequestError, describe> category("stream_request",
                                                                          "stream request error");
  return category;
}

// AnyCable (streams/controller.go): an empty string counts as absent; a signed name wins over a
// public one; a public one needs `public` streams. Its JSON decoding into string fields refuses
// a param of another type, and so do we.
boost::system::result<std::string> requested_stream(const boost::json::object& params,
                                                    const SignedStreamPolicy& policy) {
  auto signed_name = string_param(params, "signed_stream_name");
  if (!signed_name) return signed_name.error();
  auto public_name = string_param(params, "stream_name");
  if (!public_name) return public_name.error();

  if (*signed_name && !(*signed_name)->empty()) {
    return auth::verify_signed_stream_name(**signed_name, policy.key, policy.digest);
  }
  if (*public_name && !(*public_name)->empty()) {
    if (!policy.allow_public_streams) return StreamRequestError::public_streams_off;
    return std::string(**public_name);
  }
  return StreamRequestError::no_stream;
}

SignedStreamChannel::SignedStreamChannel(std::shared_ptr<const SignedStreamPolicy> policy)
    : policy_(std::move(policy)) {}

void SignedStreamChannel::subscribed() {
  auto stream = requested_stream(params(), *policy_);
  if (!stream) {
    // The reason only: a signed name is a credential for its stream and is not logged.
    CC_LOG_DEBUG("{}: subscription rejected: {}", channel_name(), stream.error().message());
    return reject();
  }
  auto signed_name = param("signed_stream_name");
  const bool was_signed = signed_name && !signed_name->empty();
  stream_from(*stream, was_signed ? policy_->signed_options : policy_->public_options);
}

detail::ChannelClass pubsub_channel_class(std::string streams_secret, bool allow_public_streams,
                                          StreamOptions signed_options, std::string name) {
  return make_class(std::move(name),
                    SignedStreamPolicy{.key = std::move(streams_secret),
                                       .digest = auth::Digest::sha256,
                                       .allow_public_streams = allow_public_streams,
                                       .signed_options = signed_options});
}

detail::ChannelClass turbo_streams_channel_class(std::string verifier_key) {
  return make_class(std::string(kTurboStreamsChannel),
                    SignedStreamPolicy{.key = std::move(verifier_key),
                                       .digest = auth::Digest::sha256,
                                       .allow_public_streams = false,
                                       .public_options = {}});
}

}  // namespace cablecast::streams
