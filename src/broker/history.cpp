#include "broker/history.hpp"

#include <string>

namespace cablecast::broker {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are never
// deleted through a base pointer); g++'s -Wnon-virtual-dtor does not know that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class HistoryCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "history"; }
  std::string message(int value) const override {
    switch (static_cast<HistoryError>(value)) {
      case HistoryError::unknown_stream:
        return "unknown stream";
      case HistoryError::epoch_mismatch:
        return "epoch mismatch";
      case HistoryError::offset_evicted:
        return "offset evicted";
      case HistoryError::unavailable:
        return "history store unavailable";
    }
    return "unknown history error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& history_category() {
  static const HistoryCategory category;
  return category;
}

}  // namespace cablecast::broker
