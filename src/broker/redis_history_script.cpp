#include "broker/redis_history_script.hpp"

#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/assert.hpp"

namespace cablecast::broker::redis_history {

// Numbers are formatted with %d: Lua 5.1 would print large ones as 1e+15.
const std::string_view kAppendScript = R"lua(
local meta, log = KEYS[1], KEYS[2]
local channel, message, head = ARGV[1], ARGV[2], ARGV[3]
local limit, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  -- A new generation (first message, or the history expired or was lost): offsets restart, so
  -- whatever is left of an earlier log must go.
  epoch = ARGV[6]
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', epoch, 'offset', 0)
end
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local now = tonumber(redis.call('TIME')[1])
redis.call('XADD', log, 'MAXLEN', limit, string.format('%d-0', offset), 'time', now,
           'message', message)
-- By age: entries stored at or before now - ttl go. The oldest is looked at first (usually it
-- is alive and this is one short read); the entry just added always stays.
local cutoff, start, count, keep = now - ttl, '-', 1, nil
repeat
  local batch = redis.call('XRANGE', log, start, '+', 'COUNT', count)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    if tonumber(entry[2][2]) > cutoff then
      keep = entry[1]
      break
    end
    start = '(' .. entry[1]
  end
  count = 64
until keep
if keep and start ~= '-' then redis.call('XTRIM', log, 'MINID', keep) end
redis.call('EXPIRE', meta, ttl)
redis.call('EXPIRE', log, ttl)
-- The envelope of broadcast/envelope.hpp: the meta hidden in JSON whitespace, so Rails nodes
-- on the same Redis read the message itself.
local digits = {' ', '\t', '\n', '\r'}
local function whitespace(text)
  local out = {}
  for i = 1, #text do
    local b = string.byte(text, i)
    out[i] = digits[math.floor(b / 64) % 4 + 1] .. digits[math.floor(b / 16) % 4 + 1] ..
             digits[math.floor(b / 4) % 4 + 1] .. digits[b % 4 + 1]
  end
  return table.concat(out)
end
local meta_json = head .. '"offset":' .. string.format('%d', offset) .. ',"epoch":"' .. epoch .. '"}'
redis.call('PUBLISH', channel, '\t\r\t\r' .. whitespace(meta_json) .. '    ' .. message)
return offset
)lua";

const std::string_view kQueryScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {} end
local out = {epoch, redis.call('HGET', KEYS[1], 'offset')}
local since = tonumber(ARGV[2])
local cutoff = tonumber(redis.call('TIME')[1]) - tonumber(ARGV[3])
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], ARGV[1], '+')) do
  local fields = entry[2]
  local time = tonumber(fields[2])
  if time > cutoff and time >= since then
    out[#out + 1] = entry[1]
    out[#out + 1] = fields[2]
    out[#out + 1] = fields[4]
  end
end
return out
)lua";

std::string script_sha1(std::string_view script) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CABLE_ASSERT(EVP_Digest(script.data(), script.size(), digest, &length, EVP_sha1(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string meta_key(std::string_view key_prefix, std::string_view stream) {
  std::string key(key_prefix);
  key.append("history:meta:").append(stream);
  return key;
}

std::string log_key(std::string_view key_prefix, std::string_view stream) {
  std::string key(key_prefix);
  key.append("history:log:").append(stream);
  return key;
}

std::string envelope_head(const broadcast::Meta& meta) {
  // Built like broadcast::wrap builds it (same keys, same order, same serializer), minus the
  // closing brace where the script goes on.
  boost::json::object header;
  if (!meta.exclude_socket.empty()) header["exclude_socket"] = meta.exclude_socket;
  if (!meta.broadcast_type.empty()) header["broadcast_type"] = meta.broadcast_type;
  std::string head = boost::json::serialize(header);
  head.pop_back();  // "}"
  if (!header.empty()) head += ',';
  return head;
}

}  // namespace cablecast::broker::redis_history
