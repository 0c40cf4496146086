#include "session/session_state.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/errc.hpp>

namespace cablecast::session {

namespace json = boost::json;

namespace {

constexpr std::int64_t kVersion = 1;

json::object to_object(const rpc::StringMap& map) {
  json::object out;
  for (const auto& [key, value] : map) out[key] = value;
  return out;
}

bool read_map(const json::value* value, rpc::StringMap& out) {
  if (!value) return true;
  if (!value->is_object()) return false;
  for (const auto& [key, v] : value->get_object()) {
    if (!v.is_string()) return false;
    out.emplace(std::string(key), std::string(v.get_string()));
  }
  return true;
}

boost::system::error_code bad_state() {
  return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
}

}  // namespace

std::string encode_session_state(const SavedSession& session) {
  json::object root;
  root["v"] = kVersion;
  root["ids"] = session.identifiers;
  root["sid"] = session.sid;
  if (!session.rpc_identifiers.empty()) root["rpc_ids"] = session.rpc_identifiers;
  if (!session.cstate.empty()) root["cstate"] = to_object(session.cstate);
  json::array subs;
  for (const auto& s : session.subscriptions) {
    json::object sub;
    sub["id"] = s.identifier;
    if (s.rpc) {
      sub["istate"] = to_object(s.istate);
      json::array streams;
      for (const auto& stream : s.streams) streams.emplace_back(stream);
      sub["streams"] = std::move(streams);
    }
    if (!s.presence_id.empty()) {
      sub["presence"] = json::object{
          {"stream", s.presence_stream}, {"id", s.presence_id}, {"info", s.presence_info}};
    }
    subs.emplace_back(std::move(sub));
  }
  root["subs"] = std::move(subs);
  return json::serialize(root);
}

boost::system::result<SavedSession> decode_session_state(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return bad_state();
  const json::object& object = root.get_object();
  const json::value* version = object.if_contains("v");
  if (!version || !version->is_int64() || version->get_int64() != kVersion) return bad_state();
  SavedSession out;
  const json::value* ids = object.if_contains("ids");
  if (!ids || !ids->is_object()) return bad_state();
  out.identifiers = ids->get_object();
  if (const json::value* v = object.if_contains("sid")) {
    if (!v->is_string()) return bad_state();
    out.sid = v->get_string();
  }
  if (const json::value* v = object.if_contains("rpc_ids")) {
    if (!v->is_string()) return bad_state();
    out.rpc_identifiers = v->get_string();
  }
  if (!read_map(object.if_contains("cstate"), out.cstate)) return bad_state();
  const json::value* subs = object.if_contains("subs");
  if (!subs || !subs->is_array()) return bad_state();
  for (const json::value& item : subs->get_array()) {
    if (!item.is_object()) return bad_state();
    const json::object& sub = item.get_object();
    SavedSubscription saved;
    const json::value* id = sub.if_contains("id");
    if (!id || !id->is_string()) return bad_state();
    saved.identifier = id->get_string();
    if (const json::value* istate = sub.if_contains("istate")) {
      saved.rpc = true;
      if (!read_map(istate, saved.istate)) return bad_state();
      const json::value* streams = sub.if_contains("streams");
      if (!streams || !streams->is_array()) return bad_state();
      for (const json::value& stream : streams->get_array()) {
        if (!stream.is_string()) return bad_state();
        saved.streams.emplace_back(stream.get_string());
      }
    }
    if (const json::value* presence = sub.if_contains("presence")) {
      const json::object* p = presence->if_object();
      const json::value* stream = p ? p->if_contains("stream") : nullptr;
      const json::value* member = p ? p->if_contains("id") : nullptr;
      const json::value* info = p ? p->if_contains("info") : nullptr;
      if (!stream || !stream->is_string() || !member || !member->is_string() || !info ||
          !info->is_string()) {
        return bad_state();
      }
      saved.presence_stream = stream->get_string();
      saved.presence_id = member->get_string();
      saved.presence_info = info->get_string();
    }
    out.subscriptions.push_back(std::move(saved));
  }
  return out;
}

}  // namespace cablecast::session
