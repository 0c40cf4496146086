#pragma once
// cablecast-limit's command-line settings (main.cpp parses them; the fan-out loop reads them).
#include <cstdint>
#include <string>

namespace cablecast::limit {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string stream_id = "bench";
  bool io_uring = true;
  std::string log_level = "info";
};

}  // namespace cablecast::limit
