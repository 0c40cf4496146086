#pragma once
// The messages of AnyCable's RPC contract (its rpc.proto, package `anycable`), as plain values.
// One shape for both transports: http_codec turns them into the JSON AnyCable's HTTP RPC
// speaks, grpc_backend into protobuf. Field names follow the contract so a reader can match
// them line by line. Maps are ordered (std::map) so encodings are deterministic in tests.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cablecast::rpc {

using StringMap = std::map<std::string, std::string>;

// ERROR = 0, SUCCESS = 1, FAILURE = 2, as on the wire. A reply without `status` is ERROR.
enum class Status : std::uint8_t { error = 0, success = 1, failure = 2 };

// What the server tells the application about the connection on every call.
struct Env {
  std::string url;      // absolute: ws://host:port/cable?query
  StringMap headers;    // forwarded request headers (lower-case names) + REMOTE_ADDR
  StringMap cstate;     // connection state (omitted on the wire when empty)
  StringMap istate;     // a command: its subscription's state; disconnect: identifier -> JSON map
};

// State changes a reply asks for; merged key by key, an empty value deletes the key.
struct EnvResponse {
  StringMap cstate;
  StringMap istate;
};

// AnyCable's presence extension in a command reply (issue #10 uses it).
struct PresenceResponse {
  std::string type;  // "join" | "leave"
  std::string id;
  std::string info;  // JSON text
  std::uint32_t ttl = 0;
};

struct ConnectionRequest {
  Env env;
};

struct ConnectionResponse {
  Status status = Status::error;
  std::string identifiers;                 // JSON text, kept for the connection
  std::vector<std::string> transmissions;  // complete frames, forwarded verbatim
  std::string error_msg;
  EnvResponse env;
};

struct CommandMessage {
  std::string command;                 // "subscribe" | "unsubscribe" | "message"
  std::string identifier;              // the subscription's identifier, verbatim
  std::string connection_identifiers;  // from the connect reply
  std::string data;                    // "message": the client's data string; else empty
  Env env;
};

struct CommandResponse {
  Status status = Status::error;
  bool disconnect = false;
  bool stop_streams = false;
  std::vector<std::string> streams;
  std::vector<std::string> transmissions;
  std::string error_msg;
  EnvResponse env;
  std::vector<std::string> stopped_streams;
  std::optional<PresenceResponse> presence;
};

struct DisconnectRequest {
  std::string identifiers;
  std::vector<std::string> subscriptions;
  Env env;
};

struct DisconnectResponse {
  Status status = Status::error;
  std::string error_msg;
};

// Per-call metadata, sent as headers (HTTP: X-AnyCable-Meta-Sid, X-AnyCable-Meta-Protov) or
// gRPC metadata (sid, protov).
struct CallMeta {
  std::string sid;
  std::string protov = "v1";
};

}  // namespace cablecast::rpc
