#include "ws/http_body_reader.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>

namespace cablecast::ws {

namespace http = boost::beast::http;

namespace {
// Bytes of one read plus an unfinished chunk-size line: more is a client that never lets the
// parser make progress.
constexpr std::size_t kMaxPending = 128 * 1024;
}  // namespace

bool expects_continue(const http::request_parser<http::empty_body>& header_parser) {
  return boost::beast::iequals(header_parser.get()[http::field::expect], "100-continue");
}

HttpBodyReader::HttpBodyReader(http::request_parser<http::empty_body>&& header_parser,
                               std::size_t limit)
    : parser_(std::move(header_parser)), pending_(kMaxPending) {
  parser_.body_limit(limit);
}

HttpBodyReader::Status HttpBodyReader::feed(std::span<const char> bytes) {
  if (bytes.size() > pending_.max_size() - pending_.size()) {
    error_ = http::error::buffer_overflow;
    return Status::malformed;
  }
  auto space = pending_.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  pending_.commit(bytes.size());
  while (!parser_.is_done()) {
    boost::system::error_code ec;
    const std::size_t used = parser_.put(pending_.data(), ec);
    pending_.consume(used);
    if (ec == http::error::need_more) return Status::need_more;
    if (ec == http::error::body_limit) return Status::too_large;
    if (ec) {
      error_ = ec;
      return Status::malformed;
    }
    if (used == 0) return Status::need_more;
  }
  return Status::complete;
}

}  // namespace cablecast::ws
