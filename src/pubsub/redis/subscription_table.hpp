#pragma once
// Which streams this node needs from Redis, and who waits for Redis to confirm them. Pure
// bookkeeping (no I/O, one thread: the broker loop), so the subtle cases are unit-tested:
//
// - Reference counting across shards: the first add() of a stream asks for SUBSCRIBE, the last
//   remove() for UNSUBSCRIBE; adds in between only wait for (or get at once) the confirmation.
// - A ready callback fires on the acknowledgement of a SUBSCRIBE sent *after* it was registered:
//   SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBE of one stream in flight means the first acknowledgement
//   must not confirm the second life (a broadcast between the UNSUBSCRIBE and the second
//   SUBSCRIBE would be missed), so acknowledgements are counted per stream.
// - A lost connection makes nothing live and nothing in flight; when it is back, every stream
//   still referenced is subscribed again, and only callbacks that never fired fire then (no
//   duplicate on_ready).
//
// Why not one helper with postgres::ListenRegistry and the hub's per-loop stream entry, which also
// count references and hold ready callbacks: the counting is the easy part (a dozen lines each);
// what each gets right is how a confirmation is matched to the life it confirms, and that is the
// broker's. Redis acknowledges SUBSCRIBEs in order with nothing to tell two of one channel apart,
// so this table counts acknowledgements in flight per stream; PostgreSQL answers each LISTEN as
// its own query, so the registry tags it with a generation and can fail it (a name it refuses)
// and maps one channel to several streams (SHA1 names); the hub's entry lives on one loop and
// waits for this adapter. A shared template would need all three policies as parameters, and
// each table would then read as the helper plus its configuration.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pubsub/adapter.hpp"

namespace cablecast::pubsub::redis {

class SubscriptionTable {
 public:
  // One more reference to `stream`. `on_ready` is either returned in `ready_now` (already live)
  // or kept until the broker confirms. Returns true when the caller must send SUBSCRIBE now.
  bool add(const std::string& stream, ReadyFn on_ready, std::vector<ReadyFn>& ready_now);

  // One reference less. Returns true when the caller must send UNSUBSCRIBE now. Unbalanced
  // calls (unknown stream) are ignored and return false.
  bool remove(std::string_view stream);

  // Redis acknowledged one SUBSCRIBE of `stream`: the callbacks to run now (often none).
  std::vector<ReadyFn> acknowledged(std::string_view stream);

  // The subscriber connection is gone: nothing is live or in flight any more.
  void disconnected();

  // The subscriber connection is up: every referenced stream, each now counted as in flight;
  // the caller must SUBSCRIBE them all.
  std::vector<std::string> connected();

  bool is_connected() const { return connected_; }
  bool is_live(std::string_view stream) const;
  std::size_t references(std::string_view stream) const;
  std::size_t stream_count() const;  // streams with at least one reference
  std::size_t waiting_count(std::string_view stream) const;

 private:
  struct Stream {
    std::size_t references = 0;
    std::size_t in_flight = 0;     // SUBSCRIBEs sent on this connection, not acknowledged yet
    std::vector<ReadyFn> waiting;  // ready callbacks of the current life, not fired yet
    bool live = false;             // confirmed, and referenced since
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, Stream, Hash, std::equal_to<>> streams_;
  bool connected_ = false;
};

}  // namespace cablecast::pubsub::redis
