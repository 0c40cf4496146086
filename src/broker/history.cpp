#include "broker/history.hpp"

#include "core/error_category.hpp"

namespace cablecast::broker {
namespace {

const char* describe(HistoryError e) {
  switch (e) {
    case HistoryError::unknown_stream:
      return "unknown stream";
    case HistoryError::epoch_mismatch:
      return "epoch mismatch";
    case HistoryError::offset_evicted:
      return "offset evicted";
    case HistoryError::unavailable:
      return "history store unavailable";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& history_category() {
  static const core::ErrorCategory<HistoryError, describe> category("history", "history error");
  return category;
}

}  // namespace cablecast::broker
