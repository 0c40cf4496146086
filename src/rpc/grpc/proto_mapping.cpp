#include "rpc/grpc/proto_mapping.hpp"

#include "rpc/grpc/grpc_error.hpp"

namespace cablecast::rpc::grpc {
namespace {

using ProtoMap = google::protobuf::Map<std::string, std::string>;
using ProtoStrings = google::protobuf::RepeatedPtrField<std::string>;

void move_into(StringMap&& from, ProtoMap& to) {
  for (auto& [key, value] : from) to[key] = std::move(value);
}

StringMap take(ProtoMap& from) {
  StringMap to;
  for (auto& [key, value] : from) to.emplace(key, std::move(value));
  return to;
}

std::vector<std::string> take(ProtoStrings& from) {
  std::vector<std::string> to;
  to.reserve(static_cast<std::size_t>(from.size()));
  for (auto& value : from) to.push_back(std::move(value));
  return to;
}

void move_into(Env&& env, anycable::Env& to) {
  to.set_url(std::move(env.url));
  move_into(std::move(env.headers), *to.mutable_headers());
  move_into(std::move(env.cstate), *to.mutable_cstate());
  move_into(std::move(env.istate), *to.mutable_istate());
}

EnvResponse take(anycable::EnvResponse& env) {
  return EnvResponse{.cstate = take(*env.mutable_cstate()), .istate = take(*env.mutable_istate())};
}

boost::system::result<Status> status_of(anycable::Status status) {
  if (!anycable::Status_IsValid(status)) return Error::bad_response;
  return static_cast<Status>(status);
}

}  // namespace

anycable::ConnectionRequest to_proto(ConnectionRequest&& request) {
  anycable::ConnectionRequest proto;
  move_into(std::move(request.env), *proto.mutable_env());
  return proto;
}

anycable::CommandMessage to_proto(CommandMessage&& request) {
  anycable::CommandMessage proto;
  proto.set_command(std::move(request.command));
  proto.set_identifier(std::move(request.identifier));
  proto.set_connection_identifiers(std::move(request.connection_identifiers));
  proto.set_data(std::move(request.data));
  move_into(std::move(request.env), *proto.mutable_env());
  return proto;
}

anycable::DisconnectRequest to_proto(DisconnectRequest&& request) {
  anycable::DisconnectRequest proto;
  proto.set_identifiers(std::move(request.identifiers));
  for (auto& identifier : request.subscriptions) proto.add_subscriptions(std::move(identifier));
  move_into(std::move(request.env), *proto.mutable_env());
  return proto;
}

boost::system::result<ConnectionResponse> from_proto(anycable::ConnectionResponse&& reply) {
  auto status = status_of(reply.status());
  if (!status) return status.error();
  return ConnectionResponse{.status = *status,
                            .identifiers = std::move(*reply.mutable_identifiers()),
                            .transmissions = take(*reply.mutable_transmissions()),
                            .error_msg = std::move(*reply.mutable_error_msg()),
                            .env = take(*reply.mutable_env())};
}

boost::system::result<CommandResponse> from_proto(anycable::CommandResponse&& reply) {
  auto status = status_of(reply.status());
  if (!status) return status.error();
  CommandResponse value{.status = *status,
                        .disconnect = reply.disconnect(),
                        .stop_streams = reply.stop_streams(),
                        .streams = take(*reply.mutable_streams()),
                        .transmissions = take(*reply.mutable_transmissions()),
                        .error_msg = std::move(*reply.mutable_error_msg()),
                        .env = take(*reply.mutable_env()),
                        .stopped_streams = take(*reply.mutable_stopped_streams()),
                        .presence = std::nullopt};
  if (reply.has_presence()) {
    auto& presence = *reply.mutable_presence();
    value.presence = PresenceResponse{.type = std::move(*presence.mutable_type()),
                                      .id = std::move(*presence.mutable_id()),
                                      .info = std::move(*presence.mutable_info()),
                                      .ttl = presence.ttl()};
  }
  return value;
}

boost::system::result<DisconnectResponse> from_proto(anycable::DisconnectResponse&& reply) {
  auto status = status_of(reply.status());
  if (!status) return status.error();
  return DisconnectResponse{.status = *status, .error_msg = std::move(*reply.mutable_error_msg())};
}

}  // namespace cablecast::rpc::grpc
