#include "pubsub/postgres/conninfo.hpp"

#include <libpq-fe.h>

#include <memory>

namespace cablecast::pubsub::postgres {
namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using Options = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

Options parse(const std::string& conninfo, std::string* error) {
  char* message = nullptr;
  Options options(PQconninfoParse(conninfo.c_str(), &message));
  if (!options && error) {
    std::string why = message ? message : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    *error = why;
  }
  if (message) PQfreemem(message);
  return options;
}

}  // namespace

std::string validate_conninfo(const std::string& conninfo) {
  std::string why;
  if (parse(conninfo, &why)) return {};
  return "invalid --postgres-url: " + why;
}

std::string describe_conninfo(const std::string& conninfo) {
  Options options = parse(conninfo, nullptr);
  if (!options) return "(invalid connection string)";
  std::string host, hostaddr, port, dbname, user;
  for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (!o->val) continue;
    std::string_view key = o->keyword;
    if (key == "host") host = o->val;
    if (key == "hostaddr") hostaddr = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
  }
  auto or_default = [](const std::string& s) { return s.empty() ? std::string("(default)") : s; };
  std::string where = !host.empty() ? host : !hostaddr.empty() ? hostaddr : "(default)";
  return or_default(user) + "@" + where + ":" + or_default(port) + "/" + or_default(dbname);
}

}  // namespace cablecast::pubsub::postgres
