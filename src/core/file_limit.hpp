#pragma once
// Each connection (server side) or client (load generator) is one file descriptor, and the
// default soft limit (often 1024) would cap either long before the machine does.
#include <cstdint>

namespace cablecast::core {

struct OpenFileLimit {
  std::uint64_t before = 0;  // soft limit found at start (0: getrlimit failed)
  std::uint64_t now = 0;     // soft limit after raising it to the hard limit (0: unknown)
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit.
OpenFileLimit raise_open_file_limit();

}  // namespace cablecast::core
