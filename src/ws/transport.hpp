#pragma once
// The narrow interface between a WebSocket connection and whatever speaks over it (the Action
// Cable session). The session never sees Asio or Beast; a recording fake makes it testable.
#include <cstdint>
#include <string_view>

#include "core/log.hpp"
#include "core/shared_frame.hpp"
#include "ws/handshake.hpp"

namespace cablecast::ws {

// What the upper layer may do with its connection. All calls happen on the connection's loop.
class Transport {
 public:
  // Queues a complete frame. Frames queued in one loop turn leave in one gathered write.
  // Never calls back into the MessageHandler synchronously (so it is safe to call while
  // iterating a subscriber list); a connection over its outbound limit is closed later.
  virtual void send(SharedFrame frame) = 0;
  // Sends a close frame after everything already queued, then ends the connection.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  // Bytes queued and not yet written to the socket.
  virtual std::size_t queued_bytes() const = 0;
  // The connection's id in logs, for work that resumes outside the connection's own handlers
  // (RPC replies, timers) to open a log::ConnectionScope. Fakes have none.
  virtual log::ConnectionId log_id() const { return {}; }

 protected:
  ~Transport() = default;
};

// What the connection reports upward. Called on the connection's loop, never re-entrantly.
// What the connection knew when it upgraded; valid only during on_open().
struct UpgradeInfo {
  const Request& request;           // the HTTP upgrade request (headers, target)
  std::string_view remote_address;  // peer IP, for logs
  std::string_view subprotocol;     // negotiated Sec-WebSocket-Protocol, may be empty
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // The 101 answer is queued; frames sent from here on follow it (welcome, or a rejection).
  virtual void on_open(const UpgradeInfo& info) = 0;
  // One complete, UTF-8-valid text message.
  virtual void on_text(std::string_view message) = 0;
  // The connection is over (closed by either side or failed). Called exactly once; the
  // handler is destroyed right after it returns, and must not use the Transport again.
  virtual void on_closed() = 0;
};

}  // namespace cablecast::ws
