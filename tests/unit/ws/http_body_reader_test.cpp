#include "ws/http_body_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace cablecast::ws {
namespace {

namespace http = boost::beast::http;
using Status = HttpBodyReader::Status;

// A header parser fed `head` (up to the blank line), as the connection leaves it: header done,
// no body byte parsed.
struct HeaderParsed {
  explicit HeaderParsed(std::string_view head) {
    parser.body_limit(boost::none);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(parser.is_header_done());
  }
  http::request_parser<http::empty_body> parser;
};

Status feed(HttpBodyReader& reader, std::string_view bytes) {
  return reader.feed(std::span<const char>(bytes.data(), bytes.size()));
}

TEST(HttpBodyReader, ReadsAContentLengthBodyArrivingInPieces) {
  HeaderParsed head("POST /_broadcast HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 100);
  EXPECT_EQ(feed(reader, "hello"), Status::need_more);
  EXPECT_EQ(feed(reader, " worl"), Status::need_more);
  EXPECT_EQ(feed(reader, "d"), Status::complete);
  EXPECT_EQ(reader.body(), "hello world");
}

TEST(HttpBodyReader, IgnoresBytesBehindTheBody) {
  HeaderParsed head("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 100);
  EXPECT_EQ(feed(reader, "{}GET / HTTP/1.1\r\n"), Status::complete);
  EXPECT_EQ(reader.body(), "{}");
}

TEST(HttpBodyReader, ReadsAChunkedBodyWithChunkLinesSplitAcrossReads) {
  HeaderParsed head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 100);
  const std::string wire = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
  Status status = Status::need_more;
  for (char c : wire) {
    ASSERT_EQ(status, Status::need_more);
    status = feed(reader, std::string_view(&c, 1));
  }
  EXPECT_EQ(status, Status::complete);
  EXPECT_EQ(reader.body(), "hello world");
}

TEST(HttpBodyReader, AChunkedBodyOverTheLimitStopsAtTheChunkThatPassesIt) {
  HeaderParsed head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 8);
  EXPECT_EQ(feed(reader, "5\r\nhello\r\n"), Status::need_more);
  // The next chunk's size line alone is enough: its data is never read.
  EXPECT_EQ(feed(reader, "1000\r\n"), Status::too_large);
}

TEST(HttpBodyReader, ABodyExactlyAtTheLimitIsComplete) {
  HeaderParsed head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 5);
  EXPECT_EQ(feed(reader, "5\r\nhello\r\n0\r\n\r\n"), Status::complete);
}

TEST(HttpBodyReader, BrokenChunkSyntaxIsMalformed) {
  HeaderParsed head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  HttpBodyReader reader(std::move(head.parser), 100);
  EXPECT_EQ(feed(reader, "zz\r\nhello\r\n"), Status::malformed);
  EXPECT_TRUE(reader.error());
}

TEST(HttpBodyReader, ExpectContinueIsRecognised) {
  HeaderParsed asks("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
  HeaderParsed plain("POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(expects_continue(asks.parser));
  EXPECT_FALSE(expects_continue(plain.parser));
}

}  // namespace
}  // namespace cablecast::ws
