#include <gtest/gtest.h>

#include <cablecast/pubsub_options.hpp>

#include "pubsub/factory.hpp"
#include "pubsub/postgres/conninfo.hpp"

namespace cablecast::pubsub::postgres {
namespace {

TEST(PostgresConninfo, AcceptsUrisAndKeyValueStringsAsLibpqDoes) {
  for (const char* good : {"postgres://127.0.0.1:5432/postgres", "postgresql://u:p@db/app",
                           "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable",
                           "postgresql:///app?host=/var/run/postgresql",
                           "host=127.0.0.1 port=5432 dbname=app user=u", "dbname=app", ""}) {
    EXPECT_EQ(validate_conninfo(good), "") << good;
  }
}

TEST(PostgresConninfo, RefusesMalformedStringsWithLibpqsReason) {
  std::string unknown = validate_conninfo("postgres://127.0.0.1/app?nosuchoption=1");
  EXPECT_NE(unknown.find("invalid --postgres-url"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("nosuchoption"), std::string::npos) << unknown;

  std::string keyword = validate_conninfo("host=127.0.0.1 bogus=1");
  EXPECT_NE(keyword.find("bogus"), std::string::npos) << keyword;

  EXPECT_NE(validate_conninfo("host='unterminated"), "");
  EXPECT_NE(validate_conninfo("postgres://[::1"), "");
}

TEST(PostgresConninfo, DescriptionNeverShowsThePassword) {
  std::string uri = describe_conninfo("postgres://alice:s3cret@db.example:6543/app");
  EXPECT_EQ(uri, "alice@db.example:6543/app");
  std::string kv = describe_conninfo("host=10.0.0.1 password=s3cret dbname=app");
  EXPECT_EQ(kv.find("s3cret"), std::string::npos) << kv;
  EXPECT_EQ(kv, "(default)@10.0.0.1:(default)/app");
}

TEST(PostgresConninfo, FactoryRefusesABadUrlBeforeConnecting) {
  PubSubOptions options;
  options.adapter = "postgres";
  options.postgres_url = "postgres://127.0.0.1/app?nosuchoption=1";
  auto made = make_adapter(options);
  EXPECT_EQ(made.adapter, nullptr);
  EXPECT_NE(made.error.find("invalid --postgres-url"), std::string::npos) << made.error;

  options.postgres_url = "postgres://127.0.0.1/app";
  made = make_adapter(options);
  ASSERT_NE(made.adapter, nullptr) << made.error;
  EXPECT_EQ(made.adapter->name(), "postgres");
  options.adapter = "postgresql";  // Rails' cable.yml spelling
  EXPECT_NE(make_adapter(options).adapter, nullptr);
}

}  // namespace
}  // namespace cablecast::pubsub::postgres
