// OutboundQueue: what a connection writes next, after frames and partial writes, with no socket.
// Every write path (sendmsg, the io_uring batch, TLS records) reads the queue through gather(),
// so these tests check the bytes it hands out against what a socket would have to receive.
#include "ws/outbound_queue.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "ws/frame_encoder.hpp"

namespace cablecast::ws {
namespace {

SharedFrame frame(std::string bytes) { return make_shared_frame(std::move(bytes)); }
SharedFrame pong(std::string_view payload) {
  return make_shared_frame(encode_frame(Opcode::pong, payload));
}

std::string joined(std::span<const iovec> buffers) {
  std::string out;
  for (const iovec& buffer : buffers) {
    out.append(static_cast<const char*>(buffer.iov_base), buffer.iov_len);
  }
  return out;
}

// What one gathered write of up to kMaxGather buffers would send.
std::string next_write(const OutboundQueue& queue) {
  std::array<iovec, OutboundQueue::kMaxGather> buffers;
  return joined(std::span<const iovec>(buffers.data(), queue.gather(buffers)));
}

// Everything still queued, gathered as many times as it takes.
std::string everything(const OutboundQueue& queue) {
  std::string out;
  OutboundQueue::Cursor cursor = queue.front();
  std::array<iovec, 3> buffers;  // small on purpose: the cursor must carry on where it stopped
  while (std::size_t count = queue.gather(cursor, buffers)) {
    out += joined(std::span<const iovec>(buffers.data(), count));
  }
  return out;
}

TEST(OutboundQueue, StartsEmptyWithNothingToWriteAndNoHeap) {
  OutboundQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.heap_bytes(), 0u);
  EXPECT_EQ(next_write(queue), "");
}

TEST(OutboundQueue, GathersFramesInTheOrderTheyWereQueued) {
  OutboundQueue queue;
  queue.push(frame("one"));
  queue.push(frame("two"));
  queue.push(frame("three"));
  EXPECT_FALSE(queue.empty());
  EXPECT_EQ(queue.bytes(), 11u);
  std::array<iovec, OutboundQueue::kMaxGather> buffers;
  EXPECT_EQ(queue.gather(buffers), 3u);  // one buffer per frame, pointing at the shared bytes
  EXPECT_EQ(joined(std::span<const iovec>(buffers.data(), 3)), "onetwothree");
}

TEST(OutboundQueue, PointsAtTheSharedFrameInsteadOfCopyingIt) {
  OutboundQueue queue;
  SharedFrame shared = frame("broadcast");
  queue.push(shared);
  std::array<iovec, 1> buffers;
  ASSERT_EQ(queue.gather(buffers), 1u);
  EXPECT_EQ(buffers[0].iov_base, static_cast<const void*>(shared->data()));
  EXPECT_EQ(shared.use_count(), 2);  // the test's and the queue's
}

TEST(OutboundQueue, ResumesInTheMiddleOfAFrameAfterAPartialWrite) {
  OutboundQueue queue;
  queue.push(frame("abcdef"));
  queue.push(frame("gh"));
  queue.consume(4);
  EXPECT_EQ(queue.bytes(), 4u);
  EXPECT_EQ(next_write(queue), "efgh");
  queue.consume(1);
  EXPECT_EQ(next_write(queue), "fgh");
}

TEST(OutboundQueue, AWriteAcrossFramesLetsGoOfTheWholeOnesAndResumesInTheNext) {
  OutboundQueue queue;
  SharedFrame first = frame("abc");
  SharedFrame second = frame("def");
  queue.push(first);
  queue.push(second);
  queue.push(frame("ghi"));
  queue.consume(5);                 // all of "abc", "de" of the second
  EXPECT_EQ(first.use_count(), 1);  // let go of as soon as it was written
  EXPECT_EQ(second.use_count(), 2);
  EXPECT_EQ(queue.bytes(), 4u);
  EXPECT_EQ(next_write(queue), "fghi");
  queue.consume(4);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(second.use_count(), 1);
}

TEST(OutboundQueue, AWriteEndingExactlyAtAFrameBoundaryStartsTheNextFrameWhole) {
  OutboundQueue queue;
  queue.push(frame("abc"));
  queue.push(frame("def"));
  queue.consume(3);
  std::array<iovec, 4> buffers;
  ASSERT_EQ(queue.gather(buffers), 1u);
  EXPECT_EQ(joined(std::span<const iovec>(buffers.data(), 1)), "def");
}

TEST(OutboundQueue, FramesQueuedAfterAPartialWriteComeAfterTheRest) {
  OutboundQueue queue;
  queue.push(frame("abcd"));
  queue.consume(2);
  queue.push(frame("ef"));
  EXPECT_EQ(queue.bytes(), 4u);
  EXPECT_EQ(everything(queue), "cdef");
}

TEST(OutboundQueue, GathersAtMost64BuffersAndTheRestInTheNextWrite) {
  OutboundQueue queue;
  std::string all;
  for (int i = 0; i < 100; ++i) {
    std::string bytes = fmt::format("<{}>", i);
    all += bytes;
    queue.push(frame(bytes));
  }
  EXPECT_EQ(OutboundQueue::kMaxGather, 64u);
  std::array<iovec, OutboundQueue::kMaxGather + 1> room;  // more room than the limit
  std::size_t count = queue.gather(std::span<iovec>(room.data(), OutboundQueue::kMaxGather));
  EXPECT_EQ(count, 64u);
  const std::string first_write = joined(std::span<const iovec>(room.data(), count));
  EXPECT_EQ(first_write, all.substr(0, first_write.size()));
  queue.consume(first_write.size());
  EXPECT_EQ(next_write(queue), all.substr(first_write.size()));  // frames 64 to 99
}

TEST(OutboundQueue, GatherStopsAtAByteLimitCuttingTheLastBufferShort) {
  OutboundQueue queue;
  queue.push(frame("abcd"));
  queue.push(frame("efgh"));
  queue.push(frame("ijkl"));
  OutboundQueue::Cursor cursor = queue.front();
  std::array<iovec, 8> buffers;
  const std::size_t count = queue.gather(cursor, buffers, 6);
  ASSERT_EQ(count, 2u);
  EXPECT_EQ(joined(std::span<const iovec>(buffers.data(), count)), "abcdef");
  // The cursor carries on from the cut: the rest of the record, as TLS gathers it.
  const std::size_t rest = queue.gather(cursor, buffers, 100);
  EXPECT_EQ(joined(std::span<const iovec>(buffers.data(), rest)), "ghijkl");
  EXPECT_EQ(queue.gather(cursor, buffers), 0u);
  EXPECT_EQ(queue.bytes(), 12u);  // gathering writes nothing
}

TEST(OutboundQueue, GatheringWithNoRoomOrNoBytesFillsNothing) {
  OutboundQueue queue;
  queue.push(frame("abc"));
  OutboundQueue::Cursor cursor = queue.front();
  std::array<iovec, 2> buffers;
  EXPECT_EQ(queue.gather(cursor, std::span<iovec>(buffers.data(), 0)), 0u);
  EXPECT_EQ(queue.gather(cursor, buffers, 0), 0u);
  EXPECT_EQ(cursor.frame, 0u);
  EXPECT_EQ(cursor.offset, 0u);
}

TEST(OutboundQueue, ANewerPongTakesTheQueuedPongsPlace) {
  OutboundQueue queue;
  queue.push(frame("a"));
  queue.push_pong(pong("1"));
  queue.push(frame("b"));
  SharedFrame newer = pong("22");
  EXPECT_TRUE(queue.replace_pong(newer));
  EXPECT_EQ(newer, nullptr);  // taken
  EXPECT_EQ(everything(queue), fmt::format("a{}b", encode_frame(Opcode::pong, "22")));
  EXPECT_EQ(queue.bytes(), 2 + encode_frame(Opcode::pong, "22").size());
}

TEST(OutboundQueue, ManyPingsWhileNothingIsWrittenHoldOnePong) {
  OutboundQueue queue;
  queue.push_pong(pong("0"));
  for (int i = 1; i <= 1000; ++i) {
    SharedFrame newer = pong(std::to_string(i % 10));
    ASSERT_TRUE(queue.replace_pong(newer));
  }
  EXPECT_EQ(everything(queue), encode_frame(Opcode::pong, "0"));  // "1000" % 10
  EXPECT_EQ(queue.bytes(), encode_frame(Opcode::pong, "0").size());
}

TEST(OutboundQueue, APongWithBytesAlreadyWrittenIsNotReplaced) {
  OutboundQueue queue;
  const std::string first = encode_frame(Opcode::pong, "first");
  queue.push_pong(pong("first"));
  queue.consume(1);  // its header byte is on the wire: the rest must follow unchanged
  SharedFrame newer = pong("second");
  ASSERT_FALSE(queue.replace_pong(newer));
  ASSERT_NE(newer, nullptr);  // left to the caller, who queues it
  queue.push_pong(std::move(newer));
  EXPECT_EQ(everything(queue), first.substr(1) + encode_frame(Opcode::pong, "second"));
  SharedFrame third = pong("third");  // the second pong is untouched: replaceable
  EXPECT_TRUE(queue.replace_pong(third));
  EXPECT_EQ(everything(queue), first.substr(1) + encode_frame(Opcode::pong, "third"));
}

TEST(OutboundQueue, APongAtTheFrontThatNothingWasWrittenOfIsReplaced) {
  OutboundQueue queue;
  queue.push(frame("ab"));
  queue.push_pong(pong("old"));
  queue.consume(2);  // the pong is now the front, untouched
  SharedFrame newer = pong("new");
  EXPECT_TRUE(queue.replace_pong(newer));
  EXPECT_EQ(next_write(queue), encode_frame(Opcode::pong, "new"));
}

TEST(OutboundQueue, APongWrittenWholeIsNotReplaced) {
  OutboundQueue queue;
  queue.push_pong(pong("old"));
  queue.push(frame("x"));  // keeps the queue from draining, so positions are kept
  queue.consume(encode_frame(Opcode::pong, "old").size());
  SharedFrame newer = pong("new");
  EXPECT_FALSE(queue.replace_pong(newer));
}

TEST(OutboundQueue, NoPongIsReplacedOnceTheQueueDrained) {
  OutboundQueue queue;
  queue.push_pong(pong("old"));
  queue.consume(queue.bytes());
  queue.push(frame("later"));  // reuses index 0: must not be taken for the old pong
  SharedFrame newer = pong("new");
  EXPECT_FALSE(queue.replace_pong(newer));
  EXPECT_EQ(everything(queue), "later");
}

TEST(OutboundQueue, OrdinaryFramesAreNeverReplacedByPongs) {
  OutboundQueue queue;
  queue.push(frame("data"));
  SharedFrame newer = pong("p");
  EXPECT_FALSE(queue.replace_pong(newer));
}

TEST(OutboundQueue, BytesCountWhatIsQueuedAndNotYetWritten) {
  OutboundQueue queue;
  queue.push(frame(std::string(1000, 'a')));
  queue.push(frame(std::string(24, 'b')));
  EXPECT_EQ(queue.bytes(), 1024u);
  queue.consume(999);
  EXPECT_EQ(queue.bytes(), 25u);
  queue.consume(25);
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_TRUE(queue.empty());
}

TEST(OutboundQueue, ADrainedQueueKeepsASmallVectorForTheNextBurst) {
  OutboundQueue queue;
  for (int i = 0; i < 4; ++i) queue.push(frame("x"));
  const std::size_t held = queue.heap_bytes();
  EXPECT_GT(held, 0u);
  queue.consume(4);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.heap_bytes(), held);
  queue.release_memory();  // what the sweep does for an idle connection
  EXPECT_EQ(queue.heap_bytes(), 0u);
}

TEST(OutboundQueue, AVectorThatGrewForABurstGivesItsMemoryBackOnceDrained) {
  OutboundQueue queue;
  for (std::size_t i = 0; i <= OutboundQueue::kKeepCapacity; ++i) queue.push(frame("x"));
  queue.consume(queue.bytes() - 1);
  EXPECT_GT(queue.heap_bytes(), 0u);  // not drained yet
  queue.consume(1);
  EXPECT_EQ(queue.heap_bytes(), 0u);
}

TEST(OutboundQueue, ReleasingMemoryLeavesAQueueWithFramesAlone) {
  OutboundQueue queue;
  queue.push(frame("abc"));
  queue.release_memory();
  EXPECT_GT(queue.heap_bytes(), 0u);
  EXPECT_EQ(next_write(queue), "abc");
}

TEST(OutboundQueue, ClearDropsEverythingAndItsMemory) {
  OutboundQueue queue;
  SharedFrame shared = frame("abc");
  queue.push(shared);
  queue.push_pong(pong("p"));
  queue.consume(1);
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
  EXPECT_EQ(queue.heap_bytes(), 0u);
  EXPECT_EQ(shared.use_count(), 1);
  EXPECT_EQ(next_write(queue), "");
  queue.push(frame("new"));  // starts over from the beginning, no pong to replace
  SharedFrame newer = pong("q");
  EXPECT_FALSE(queue.replace_pong(newer));
  EXPECT_EQ(next_write(queue), "new");
}

TEST(OutboundQueue, StaysSmallEnoughForAnIdleConnection) {
  // docs/architecture.md "Memory per idle connection": the queue's bookkeeping is 48 bytes.
  EXPECT_EQ(sizeof(OutboundQueue), 48u);
}

}  // namespace
}  // namespace cablecast::ws
