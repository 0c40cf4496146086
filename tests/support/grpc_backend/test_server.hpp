#pragma once
// tests/support/grpc_backend/server.rb as a child process of a C++ test: started on a port
// (0: a free one), stopped (SIGTERM) when the object goes, and read line by line: each RPC it
// receives is one JSON "call" record (see server.rb). Needs CABLECAST_SOURCE_DIR defined to the
// repository root, and ruby on PATH. Link Boost::json.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace cablecast::testing {

class GrpcTestServer {
 public:
  // How long a read waits for the server before the test fails: only a guard against a hang.
  static constexpr std::chrono::seconds kPatience{30};

  explicit GrpcTestServer(unsigned port = 0) {
    int fds[2];
    int lifeline[2];  // the server exits when this process is gone and the pipe closes
    if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(lifeline, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2 failed");
    }
    out_ = fds[0];
    lifeline_ = lifeline[1];
    const std::string script = CABLECAST_SOURCE_DIR "/tests/support/grpc_backend/server.rb";
    const std::string port_text = std::to_string(port);
    std::vector<char*> argv{const_cast<char*>("ruby"),
                            const_cast<char*>(script.c_str()),
                            const_cast<char*>("--port"),
                            const_cast<char*>(port_text.c_str()),
                            const_cast<char*>("--exit-with-stdin"),
                            nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, lifeline[0], STDIN_FILENO);
    const int rc = posix_spawnp(&pid_, "ruby", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    close(lifeline[0]);
    if (rc != 0) throw std::runtime_error("cannot start ruby");

    auto listening = next_record();
    if (!listening || listening->at("event") != "listening") {
      throw std::runtime_error("server.rb did not report its port");
    }
    port_ = static_cast<unsigned>(listening->at("port").to_number<int>());
  }

  ~GrpcTestServer() {
    stop();
    close(out_);
    close(lifeline_);
  }
  GrpcTestServer(const GrpcTestServer&) = delete;
  GrpcTestServer& operator=(const GrpcTestServer&) = delete;

  unsigned port() const { return port_; }
  std::string url() const { return "grpc://127.0.0.1:" + std::to_string(port_); }

  // Ends the process at once (calls in flight included) and reaps it.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // The next "call" record: {"method", "metadata": {"sid", "protov"}, "request": {…}}.
  boost::json::object next_call() {
    auto record = next_record();
    if (!record) {
      ADD_FAILURE() << "server.rb printed no call record";
      return {};
    }
    EXPECT_EQ(record->at("event"), "call");
    return *record;
  }

 private:
  std::optional<boost::json::object> next_record() {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        const std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        if (ec || !value.is_object()) {
          ADD_FAILURE() << "server.rb printed a line that is not a JSON object: " << line;
          return std::nullopt;
        }
        return value.as_object();
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          give_up - std::chrono::steady_clock::now());
      pollfd readable{out_, POLLIN, 0};
      if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char chunk[4096];
      const ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int lifeline_ = -1;
  unsigned port_ = 0;
  std::string buffer_;
};

}  // namespace cablecast::testing
