// BatchSender over real kernel sockets: the bytes arrive whole and in order, each send reports
// its own outcome, a full socket answers -EAGAIN at once (the loop must never be parked in the
// kernel), and a dead peer is an error for that send only.
#include "ws/batch_sender.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

namespace cablecast::ws {
namespace {

// A connected pair of non-blocking stream sockets, closed at the end.
struct SocketPair {
  int ours = -1;
  int theirs = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours = fds[0];
    theirs = fds[1];
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  ~SocketPair() {
    if (ours >= 0) ::close(ours);
    if (theirs >= 0) ::close(theirs);
  }
  std::string read_all() const {
    std::string out;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::recv(theirs, buffer, sizeof buffer, 0);
      if (n <= 0) return out;
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }
};

iovec view(const std::string& s) { return iovec{const_cast<char*>(s.data()), s.size()}; }

std::unique_ptr<BatchSender> make_sender(unsigned capacity = 64) {
  boost::system::error_code ec;
  auto sender = BatchSender::create(capacity, ec);
  // The test machine (and CI) run a kernel with io_uring: its absence here is a failure, not
  // a skip (the server's fallback is covered by tests/integration/write_paths.test.mjs).
  EXPECT_TRUE(sender) << "io_uring unavailable: " << ec.message();
  return sender;
}

TEST(BatchSender, SendsGatheredBuffersToManySocketsInOneSubmission) {
  auto sender = make_sender();
  ASSERT_TRUE(sender);
  std::vector<SocketPair> pairs(20);
  std::vector<std::string> first, second;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    first.push_back("frame-a-" + std::to_string(i));
    second.push_back(std::string(100 + i, static_cast<char>('a' + i)));
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::array<iovec, 2> buffers{view(first[i]), view(second[i])};
    sender->add(pairs[i].ours, buffers);
  }
  EXPECT_EQ(sender->size(), pairs.size());
  ASSERT_TRUE(sender->submit());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(sender->result(i), static_cast<int>(first[i].size() + second[i].size()));
    EXPECT_EQ(pairs[i].read_all(), first[i] + second[i]);
  }
  sender->clear();
  EXPECT_EQ(sender->size(), 0u);
}

TEST(BatchSender, AFullSocketAnswersEagainAtOnceAndTheOthersStillGo) {
  auto sender = make_sender();
  ASSERT_TRUE(sender);
  SocketPair full, fine;
  const std::string chunk(64 * 1024, 'x');
  // Fill `full` until the kernel takes nothing more (the peer never reads).
  while (::send(full.ours, chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  const std::string hello = "hello";
  std::array<iovec, 1> big{view(chunk)};
  std::array<iovec, 1> small{view(hello)};
  sender->add(full.ours, big);
  sender->add(fine.ours, small);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(sender->submit());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(sender->result(0), -EAGAIN);
  EXPECT_EQ(sender->result(1), 5);
  EXPECT_EQ(fine.read_all(), "hello");
}

TEST(BatchSender, APeerThatLeftIsAnErrorForItsSendOnly) {
  auto sender = make_sender();
  ASSERT_TRUE(sender);
  SocketPair gone, fine;
  ::close(gone.theirs);
  gone.theirs = -1;
  const std::string text = "data";
  std::array<iovec, 1> buffers{view(text)};
  sender->add(gone.ours, buffers);
  sender->add(fine.ours, buffers);
  ASSERT_TRUE(sender->submit());  // and no SIGPIPE: the test process would die of it
  EXPECT_EQ(sender->result(0), -EPIPE);
  EXPECT_EQ(sender->result(1), 4);
}

TEST(BatchSender, IsReusableBatchAfterBatchUpToItsCapacity) {
  auto sender = make_sender(4);
  ASSERT_TRUE(sender);
  // One send per socket per batch, as the loop does; order across batches is the order of
  // submit() calls, since each returns with every send done.
  std::vector<SocketPair> pairs(4);
  std::vector<std::string> expected(pairs.size());
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      texts.push_back(std::to_string(round) + ":" + std::to_string(i) + ";");
    }
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      std::array<iovec, 1> buffers{view(texts[i])};
      sender->add(pairs[i].ours, buffers);
      expected[i] += texts[i];
    }
    EXPECT_TRUE(sender->full());
    ASSERT_TRUE(sender->submit());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      EXPECT_EQ(sender->result(i), static_cast<int>(texts[i].size()));
    }
    sender->clear();
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) EXPECT_EQ(pairs[i].read_all(), expected[i]);
}

}  // namespace
}  // namespace cablecast::ws
