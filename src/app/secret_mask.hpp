#pragma once
// Hiding secrets in what `cablecast config` prints (and anything else that shows a setting).
#include <string>
#include <string_view>

namespace cablecast::app {

// What a secret setting shows instead of its value: "****" when set, "" when not (whether a
// secret is set is worth seeing; its value and length are not).
std::string masked_secret(std::string_view value);

// A setting's value with the passwords it may hold masked: the password of a URL's user info
// (redis://:pw@host, postgres://user:pw@host/db) and libpq's password=… (key=value conninfo or
// URI query), quoted or not. Everything else is kept as is.
std::string mask_passwords(std::string_view value);

}  // namespace cablecast::app
