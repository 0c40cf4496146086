#pragma once
// `cablecast bench`: the load generator's command line, as a subcommand of the `cablecast`
// binary (one binary serves, broadcasts and benchmarks). The modes themselves are in modes.hpp.
#include <memory>

namespace CLI {
class App;
}

namespace cablecast::bench {

class BenchCommand {
 public:
  // Adds `bench` and its modes (broadcast, echo, fanout, connect) to `app`. The object must
  // outlive the parse: CLI11 writes the options into it.
  explicit BenchCommand(CLI::App& app);
  ~BenchCommand();
  BenchCommand(const BenchCommand&) = delete;
  BenchCommand& operator=(const BenchCommand&) = delete;

  // After the parse: whether `bench` was given, and running the mode it names. The result is
  // the process exit code (modes.hpp).
  bool selected() const;
  int run();

 private:
  struct Parsed;
  std::unique_ptr<Parsed> parsed_;
};

}  // namespace cablecast::bench
