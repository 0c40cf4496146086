// Action Cable JSON: decoding client commands (every frame a client sends) and encoding the
// {"identifier":…,"message":…} envelope (once per broadcast per identifier per loop).
#include <benchmark/benchmark.h>

#include <string>

#include "protocol/command.hpp"
#include "protocol/encode.hpp"

namespace {

using namespace cablecast::protocol;

const std::string kIdentifier = R"({"channel":"BenchmarkChannel","id":"bench"})";
const std::string kBroadcastCommand =
    R"({"command":"message","identifier":"{\"channel\":\"BenchmarkChannel\",\"id\":\"bench\"}",)"
    R"("data":"{\"action\":\"broadcast\",\"slot\":0,\"seq\":12345,\"t\":1234567890123,)"
    R"(\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"})";
const std::string kSubscribeCommand =
    R"({"command":"subscribe","identifier":"{\"channel\":\"BenchmarkChannel\",\"id\":\"bench\"}"})";
const std::string kData =
    R"({"action":"broadcast","slot":0,"seq":12345,"t":1234567890123,)"
    R"("payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})";

void BM_DecodeMessageCommand(benchmark::State& state) {
  for (auto _ : state) {
    auto command = decode_command(kBroadcastCommand);
    benchmark::DoNotOptimize(command);
  }
}
BENCHMARK(BM_DecodeMessageCommand);

void BM_DecodeSubscribeCommand(benchmark::State& state) {
  for (auto _ : state) {
    auto command = decode_command(kSubscribeCommand);
    benchmark::DoNotOptimize(command);
  }
}
BENCHMARK(BM_DecodeSubscribeCommand);

void BM_ParseIdentifier(benchmark::State& state) {
  for (auto _ : state) {
    auto identifier = parse_identifier(kIdentifier);
    benchmark::DoNotOptimize(identifier);
  }
}
BENCHMARK(BM_ParseIdentifier);

void BM_ParseActionData(benchmark::State& state) {
  for (auto _ : state) {
    auto data = parse_action_data(kData);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_ParseActionData);

// The whole inbound path of one "broadcast" perform: frame JSON, then the data string.
void BM_DecodeCommandAndData(benchmark::State& state) {
  for (auto _ : state) {
    auto command = decode_command(kBroadcastCommand);
    auto data = parse_action_data(command->data);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_DecodeCommandAndData);

void BM_EncodeMessage(benchmark::State& state) {
  for (auto _ : state) {
    auto text = encode_message(kIdentifier, kData);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_EncodeMessage);

void BM_IsValidJson(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_json(kData));
}
BENCHMARK(BM_IsValidJson);

}  // namespace
