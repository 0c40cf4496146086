#pragma once
// What an extended-protocol subscription has sent of each of its streams, and the live
// messages it holds while history is being sent: the server's guarantee that such a client sees
// each message once and in order per stream, whatever client library it uses (AnyCable leaves
// de-duplication to the client).
//
// A stream's position is (epoch, offset). A message at or before the last position sent is
// dropped; one of another epoch (the history restarted its numbering) is taken as new. While
// holding (history requested, or a restored session waiting for the client's history request),
// positioned live messages are kept in arrival order and sent on release(), after the history,
// minus what the history already sent. Pure: no I/O.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/shared_frame.hpp"

namespace cablecast::session {

class StreamPositions {
 public:
  // Messages held at most; past it the hold ends (the held ones are sent) rather than grow
  // without bound. A client whose history takes this long is far behind anyway.
  static constexpr std::size_t kMaxHeld = 4096;

  // A live message. True: send it now. False: held, or already sent.
  bool admit_live(std::string_view stream, std::string_view epoch, std::uint64_t offset,
                  const SharedFrame& frame);
  // A history entry. True: send it now (and it counts as sent).
  bool admit_history(std::string_view stream, std::string_view epoch, std::uint64_t offset);

  // Holds are counted: a history request and a restore may overlap.
  void hold() { ++holds_; }
  bool holding() const { return holds_ > 0; }
  // Ends one hold; when none is left, returns the held messages still to send, in order.
  std::vector<SharedFrame> release();
  // True when the held messages overflowed: the caller releases at once.
  bool overflowing() const { return held_.size() >= kMaxHeld; }

 private:
  struct Sent {
    std::string stream;
    std::string epoch;
    std::uint64_t offset;
  };
  struct Held {
    SharedFrame frame;
    std::string stream;
    std::string epoch;
    std::uint64_t offset;
  };
  // Records the position as sent unless it already was; true when it is new.
  bool advance(std::string_view stream, std::string_view epoch, std::uint64_t offset);

  std::vector<Sent> sent_;  // one per stream (a subscription has few)
  std::vector<Held> held_;
  std::uint32_t holds_ = 0;
};

}  // namespace cablecast::session
