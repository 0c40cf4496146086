// The LISTEN bookkeeping: one LISTEN per channel per node whatever the number of shards, ready
// answers only after the LISTEN ran, and a clean re-LISTEN after the connection came back.
#include <gtest/gtest.h>

#include "pubsub/postgres/listen_registry.hpp"
#include "pubsub/postgres/postgres_error.hpp"

namespace cablecast::pubsub::postgres {
namespace {

using boost::system::error_code;

struct PostgresListenRegistryTest : ::testing::Test {
  ListenRegistry registry;
  std::vector<error_code> answers;
  ReadyFn record() {
    return [this](error_code ec) { answers.push_back(ec); };
  }
};

TEST_F(PostgresListenRegistryTest, FirstAddAsksForOneListenAndWaitsForIt) {
  auto listen = registry.add("app:chat", "chat", record());
  ASSERT_TRUE(listen.has_value());
  EXPECT_EQ(listen->channel, "app:chat");
  EXPECT_TRUE(answers.empty()) << "must not confirm before the LISTEN ran";

  // A second shard subscribing meanwhile: no second LISTEN, it waits too.
  EXPECT_FALSE(registry.add("app:chat", "chat", record()).has_value());
  EXPECT_TRUE(answers.empty());

  registry.listened("app:chat", listen->generation, {});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[0]);
  EXPECT_FALSE(answers[1]);
  EXPECT_TRUE(registry.is_live("app:chat"));

  // Once live, a further shard is answered at once.
  EXPECT_FALSE(registry.add("app:chat", "chat", record()).has_value());
  EXPECT_EQ(answers.size(), 3u);
}

TEST_F(PostgresListenRegistryTest, UnlistenOnlyAfterTheLastSubscriberLeft) {
  auto listen = registry.add("c", "c", record());
  registry.add("c", "c", record());
  registry.listened("c", listen->generation, {});
  EXPECT_FALSE(registry.remove("c", "c"));
  ASSERT_NE(registry.streams("c"), nullptr);
  EXPECT_TRUE(registry.remove("c", "c"));
  EXPECT_EQ(registry.streams("c"), nullptr);
  EXPECT_FALSE(registry.remove("c", "c")) << "an unbalanced remove is ignored";
}

TEST_F(PostgresListenRegistryTest, AnswerOfASupersededListenIsIgnored) {
  auto first = registry.add("c", "c", record());
  EXPECT_TRUE(registry.remove("c", "c"));
  auto second = registry.add("c", "c", record());
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(first->generation, second->generation);
  registry.listened("c", first->generation, {});  // the old LISTEN, followed by an UNLISTEN
  EXPECT_TRUE(answers.empty());
  registry.listened("c", second->generation, {});
  EXPECT_EQ(answers.size(), 1u);
}

TEST_F(PostgresListenRegistryTest, FailedListenAnswersEveryWaiterWithTheErrorAndNeedsNoUnlisten) {
  auto listen = registry.add("c", "c", record());
  registry.add("c", "c", record());
  error_code failure = make_error_code(PostgresError::listen_failed);
  registry.listened("c", listen->generation, failure);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], failure);
  EXPECT_EQ(answers[1], failure);
  registry.add("c", "c", record());  // a later shard learns it at once
  EXPECT_EQ(answers.back(), failure);
  EXPECT_FALSE(registry.remove("c", "c"));
  EXPECT_FALSE(registry.remove("c", "c"));
  EXPECT_FALSE(registry.remove("c", "c")) << "nothing to UNLISTEN for a channel never listened";
  EXPECT_EQ(registry.channel_count(), 0u);
}

TEST_F(PostgresListenRegistryTest, RefusedNameFailsWithoutAListen) {
  error_code refuse = make_error_code(PostgresError::empty_channel);
  EXPECT_FALSE(registry.add("", "", record(), refuse).has_value());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], refuse);
  EXPECT_FALSE(registry.remove("", ""));
}

TEST_F(PostgresListenRegistryTest, AfterAReconnectEveryChannelIsListenedAgainAndNewcomersWait) {
  auto a = registry.add("a", "a", record());
  auto b = registry.add("b", "b", record());
  registry.listened("a", a->generation, {});
  registry.listened("b", b->generation, {});
  ASSERT_EQ(answers.size(), 2u);

  registry.connection_lost();
  EXPECT_FALSE(registry.is_live("a"));
  // A shard subscribing during the outage is not confirmed yet...
  EXPECT_FALSE(registry.add("a", "a", record()).has_value());
  EXPECT_EQ(answers.size(), 2u);
  // ...and deliveries still reach the known streams (the hub keeps its subscribers).
  EXPECT_NE(registry.streams("a"), nullptr);

  auto again = registry.relisten_all();
  ASSERT_EQ(again.size(), 2u);
  // A LISTEN lost with the old connection must not confirm anything.
  registry.listened("a", a->generation, {});
  EXPECT_EQ(answers.size(), 2u);
  for (const auto& listen : again) registry.listened(listen.channel, listen.generation, {});
  EXPECT_EQ(answers.size(), 3u);
  EXPECT_TRUE(registry.is_live("a"));
  EXPECT_TRUE(registry.is_live("b"));
}

TEST_F(PostgresListenRegistryTest, StreamsSharingAChannelAreCountedSeparately) {
  auto listen = registry.add("h", "long-name", record());
  registry.add("h", "other-name", record());
  registry.listened("h", listen->generation, {});
  ASSERT_EQ(registry.streams("h")->size(), 2u);
  EXPECT_FALSE(registry.remove("h", "long-name"));
  ASSERT_EQ(registry.streams("h")->size(), 1u);
  EXPECT_EQ(registry.streams("h")->front().stream, "other-name");
  EXPECT_TRUE(registry.remove("h", "other-name"));
}

TEST_F(PostgresListenRegistryTest, ClearDropsWaitersUnanswered) {
  registry.add("c", "c", record());
  registry.clear();
  EXPECT_TRUE(answers.empty());
  EXPECT_EQ(registry.channel_count(), 0u);
}

}  // namespace
}  // namespace cablecast::pubsub::postgres
