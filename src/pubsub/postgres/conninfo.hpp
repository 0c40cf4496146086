#pragma once
// The --postgres-url value: anything libpq accepts (a postgres:// or postgresql:// URI, or
// "host=... dbname=..." key=value pairs). libpq's own parser judges it, so we accept exactly
// what psql and Rails' pg gem accept, and a typo fails at start-up with libpq's explanation.
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace cablecast::pubsub::postgres {

// Empty when libpq can parse `conninfo`; otherwise why not, e.g.
// `invalid --postgres-url: invalid URI query parameter: "foo"`.
std::string validate_conninfo(const std::string& conninfo);

// For log lines: host, port, dbname and user as libpq will use them, never the password,
// e.g. "postgres@127.0.0.1:5432/postgres". Empty parts fall back to libpq's defaults and are
// shown as such ("(default)").
std::string describe_conninfo(const std::string& conninfo);

}  // namespace cablecast::pubsub::postgres
