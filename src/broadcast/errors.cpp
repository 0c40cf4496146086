// The "cablecast.broadcast" error category: one message per broadcast::Error, worded for the log
// line about a refused broadcast body.
#include "broadcast/errors.hpp"

#include "core/error_category.hpp"

namespace cablecast::broadcast {
namespace {

const char* describe(Error e) {
  switch (e) {
    case Error::not_json:
      return "the body is not valid JSON";
    case Error::not_object_or_array:
      return "the body is neither a publication object nor an array of them";
    case Error::item_not_object:
      return "an array item is not a publication object";
    case Error::empty_array:
      return "the array holds no publication";
    case Error::too_many_items:
      return "the array holds more publications than one body may";
    case Error::missing_stream:
      return "no \"stream\" (nor \"command\"), or the stream is empty";
    case Error::stream_not_string:
      return "\"stream\" is not a string";
    case Error::missing_data:
      return "a publication has no \"data\"";
    case Error::data_not_string:
      return "\"data\" is not a string (it carries the message as JSON text)";
    case Error::meta_not_object:
      return "\"meta\" is not an object";
    case Error::exclude_socket_not_string:
      return "\"meta.exclude_socket\" is not a string";
    case Error::broadcast_type_not_string:
      return "\"meta.broadcast_type\" is not a string";
    case Error::transient_not_boolean:
      return "\"meta.transient\" is not true or false";
    case Error::unknown_command:
      return "\"command\" is not \"disconnect\"";
    case Error::command_not_string:
      return "\"command\" is not a string";
    case Error::payload_not_object:
      return "the command has no \"payload\" object";
    case Error::identifier_not_string:
      return "\"payload.identifier\" is missing or not a string";
    case Error::identifier_not_object:
      return "\"payload.identifier\" is not the JSON text of an object";
    case Error::identifier_empty:
      return "\"payload.identifier\" has no identifier with a value: it names no connection";
    case Error::reconnect_not_boolean:
      return "\"payload.reconnect\" is not true or false";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const core::ErrorCategory<Error, describe> category("cablecast.broadcast",
                                                             "broadcast error");
  return category;
}

}  // namespace cablecast::broadcast
