#pragma once
// The little text handling the limit server does instead of a protocol: a header's value in the
// upgrade request, a trigger's data, and JSON string escaping for the generator's identifiers.
#include <string>
#include <string_view>

namespace cablecast::limit {

// `text` as the inside of a JSON string: the generator's identifiers only need `"` and `\`.
std::string json_escaped(std::string_view text);

// The value of header `name` (lowercase, with its colon) in a request head whose lowercase copy
// is `lower`, trimmed; empty when absent.
std::string_view header_value(std::string_view head, std::string_view lower, std::string_view name);

// The data of a trigger, {"command":"message","identifier":"…","data":"<JSON as a string>"}, as
// the generator writes it, unescaped into `out` (it escapes only `"` and `\`). False when `text`
// is not one; the caller counts and logs it.
bool trigger_data(std::string_view text, std::string& out);

}  // namespace cablecast::limit
