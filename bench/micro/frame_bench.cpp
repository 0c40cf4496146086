// RFC 6455 codec: encoding a server frame (once per broadcast per identifier) and decoding
// client frames (every command) and server frames (the load generator's side).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ws/frame_encoder.hpp"
#include "ws/frame_parser.hpp"

namespace {

using namespace cablecast::ws;

// A typical broadcast as delivered: {"identifier":…,"message":{…}} of about `size` bytes.
std::string message_of_size(std::size_t size) {
  std::string out =
      R"({"identifier":"{\"channel\":\"BenchmarkChannel\",\"id\":\"bench\"}","message":{"payload":")";
  while (out.size() + 3 < size) out.push_back('x');
  out.append("\"}}");
  return out;
}

struct CountingSink final : FrameSink {
  void on_message(Opcode, std::string_view payload) override { bytes += payload.size(); }
  void on_ping(std::string_view) override {}
  void on_pong(std::string_view) override {}
  void on_close(std::optional<std::uint16_t>, std::string_view) override {}
  std::size_t bytes = 0;
};

void BM_EncodeServerTextFrame(benchmark::State& state) {
  const std::string payload = message_of_size(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto frame = make_text_frame(payload);
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_EncodeServerTextFrame)->Arg(128)->Arg(1024)->Arg(65536);

void BM_EncodeClientFrame(benchmark::State& state) {
  const std::string payload = message_of_size(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto frame = encode_client_frame(Opcode::text, payload, {1, 2, 3, 4});
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_EncodeClientFrame)->Arg(128)->Arg(1024);

// Server side: 16 masked client frames per read, unmasked and UTF-8 validated in place.
void BM_DecodeMaskedClientFrames(benchmark::State& state) {
  const std::string payload = message_of_size(static_cast<std::size_t>(state.range(0)));
  std::string wire;
  for (int i = 0; i < 16; ++i) wire += encode_client_frame(Opcode::text, payload, {9, 8, 7, 6});
  std::string buffer;
  FrameParser parser(ParserOptions{.max_message_size = 1 << 20, .expect_masked = true});
  CountingSink sink;
  for (auto _ : state) {
    buffer = wire;  // the parser unmasks in place: start from masked bytes every time
    if (parser.feed(std::span<char>(buffer.data(), buffer.size()), sink)) {
      return state.SkipWithError("parse error");
    }
  }
  if (sink.bytes != state.iterations() * 16 * payload.size()) state.SkipWithError("lost messages");
  state.SetItemsProcessed(state.iterations() * 16);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DecodeMaskedClientFrames)->Arg(128)->Arg(1024);

// Client side (load generator): unmasked server frames, several per read.
void BM_DecodeServerFrames(benchmark::State& state) {
  const std::string payload = message_of_size(static_cast<std::size_t>(state.range(0)));
  std::string wire;
  for (int i = 0; i < 16; ++i) wire += encode_frame(Opcode::text, payload);
  FrameParser parser(ParserOptions{.max_message_size = 1 << 20, .expect_masked = false});
  CountingSink sink;
  for (auto _ : state) {
    if (parser.feed(std::span<char>(wire.data(), wire.size()), sink)) {
      return state.SkipWithError("parse error");
    }
  }
  if (sink.bytes != state.iterations() * 16 * payload.size()) state.SkipWithError("lost messages");
  state.SetItemsProcessed(state.iterations() * 16);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DecodeServerFrames)->Arg(128)->Arg(1024);

// A message split over many small reads: the partial-frame path.
void BM_DecodeFragmentedReads(benchmark::State& state) {
  const std::string wire = encode_client_frame(Opcode::text, message_of_size(1024), {9, 8, 7, 6});
  FrameParser parser(ParserOptions{.max_message_size = 1 << 20, .expect_masked = true});
  CountingSink sink;
  std::string buffer;
  const std::size_t chunk = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    buffer = wire;
    for (std::size_t at = 0; at < buffer.size(); at += chunk) {
      const std::size_t n = std::min(chunk, buffer.size() - at);
      if (parser.feed(std::span<char>(buffer.data() + at, n), sink)) {
        return state.SkipWithError("parse error");
      }
    }
  }
  if (sink.bytes == 0) state.SkipWithError("no message decoded");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DecodeFragmentedReads)->Arg(64)->Arg(512);

}  // namespace
