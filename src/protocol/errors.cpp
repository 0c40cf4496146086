// The "cablecast.protocol" error category: one message per protocol::Error, worded for log lines
// about a client frame that was dropped.
#include "protocol/errors.hpp"

#include "core/error_category.hpp"

namespace cablecast::protocol {
namespace {

const char* describe(Error e) {
  switch (e) {
    case Error::malformed_json:
      return "frame is not valid JSON";
    case Error::not_an_object:
      return "frame is JSON but not an object";
    case Error::missing_command:
      return "frame has no \"command\" string";
    case Error::unknown_command:
      return "command is not subscribe, unsubscribe, message or one of AnyCable's (history, "
             "join, leave, presence, whisper, pong, ping)";
    case Error::missing_identifier:
      return "command has no \"identifier\" string, or it is empty";
    case Error::missing_data:
      return "\"message\" command has no \"data\"";
    case Error::data_not_string:
      return "\"data\" is not a string";
    case Error::identifier_not_json:
      return "identifier is not valid JSON";
    case Error::identifier_not_object:
      return "identifier is JSON but not an object";
    case Error::missing_channel:
      return "identifier has no \"channel\" string";
    case Error::data_not_json:
      return "\"data\" is not valid JSON";
    case Error::data_not_object:
      return "\"data\" is JSON but not an object";
    case Error::too_deep:
      return "JSON nested deeper than the server accepts";
    case Error::missing_history:
      return "\"history\" command has no \"history\" object";
    case Error::bad_history:
      return "\"history\" is not {\"since\": seconds, \"streams\": {name: {\"epoch\", "
             "\"offset\"}}}, or asks for nothing";
    case Error::missing_presence:
      return "\"join\" command has no \"presence\" object";
    case Error::bad_presence:
      return "\"presence\" is not {\"id\": string or number, \"info\": any JSON}";
    case Error::over_limit:
      return "history or presence exceeds the server's limits (streams, id, name, epoch or "
             "info size)";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const core::ErrorCategory<Error, describe> category("cablecast.protocol",
                                                             "protocol error");
  return category;
}

}  // namespace cablecast::protocol
