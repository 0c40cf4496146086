#pragma once
// rpc/messages.hpp values <-> the protobuf classes protoc generates from anycable_rpc.proto.
// Both directions move the strings (transmissions can be large): a request is built once per
// call and then only read, a reply is read once. Replies are checked on the way back: a status
// outside ERROR/SUCCESS/FAILURE (proto3 enums accept any number on the wire) is
// Error::bad_response, never passed on.
#include <boost/system/result.hpp>

#include "anycable_rpc.pb.h"
#include "rpc/messages.hpp"

namespace cablecast::rpc::grpc {

anycable::ConnectionRequest to_proto(ConnectionRequest&& request);
anycable::CommandMessage to_proto(CommandMessage&& request);
anycable::DisconnectRequest to_proto(DisconnectRequest&& request);

boost::system::result<ConnectionResponse> from_proto(anycable::ConnectionResponse&& reply);
boost::system::result<CommandResponse> from_proto(anycable::CommandResponse&& reply);
boost::system::result<DisconnectResponse> from_proto(anycable::DisconnectResponse&& reply);

}  // namespace cablecast::rpc::grpc
