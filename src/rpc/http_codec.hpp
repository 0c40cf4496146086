#pragma once
// AnyCable's RPC messages as the JSON its HTTP transport speaks (anycable-go `rpc/http.go`
// marshals the rpc.proto structs with encoding/json): snake_case field names as in rpc.proto,
// every field omitted when empty (Go's `omitempty`), `status` as a number.
//
// Encoding is total. Decoding is strict about types and never throws: a body that is not JSON,
// not an object, or holds a field of the wrong type is an rpc::Error, never a crash or a guess.
// What a reply may leave out means its default, as in Go and protobuf: no `status` = ERROR, no
// list = empty, no `env` = no state change; `null` counts as absent. `status` is accepted as
// 0/1/2 or as the enum names "ERROR"/"SUCCESS"/"FAILURE" (protobuf's own JSON mapping); any
// other value is a bad reply. Unknown fields are ignored (newer backends may add some).
#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "rpc/error.hpp"
#include "rpc/messages.hpp"

namespace cablecast::rpc::http {

std::string encode(const ConnectionRequest& request);
std::string encode(const CommandMessage& request);
std::string encode(const DisconnectRequest& request);

struct DecodeOptions {
  // Bodies over this many bytes are refused before parsing (Error::reply_too_large).
  std::size_t max_bytes = 16 * 1024 * 1024;
};

// On failure, `why` (when given) receives a short explanation for the log, e.g.
// "`streams` is not an array of strings"; the backend's text is not copied into it.
template <class Response>
boost::system::result<Response> decode(std::string_view body, const DecodeOptions& options = {},
                                       std::string* why = nullptr);

template <>
boost::system::result<ConnectionResponse> decode<ConnectionResponse>(std::string_view body,
                                                                     const DecodeOptions& options,
                                                                     std::string* why);
template <>
boost::system::result<CommandResponse> decode<CommandResponse>(std::string_view body,
                                                               const DecodeOptions& options,
                                                               std::string* why);
template <>
boost::system::result<DisconnectResponse> decode<DisconnectResponse>(std::string_view body,
                                                                     const DecodeOptions& options,
                                                                     std::string* why);

}  // namespace cablecast::rpc::http
