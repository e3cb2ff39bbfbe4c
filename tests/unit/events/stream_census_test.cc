// The per-caller stream limit across replicas (SPEC §11): EventStreams asks
// its census before admitting, and DatabaseStreamCensus counts the other
// replicas' streams. (The SQL and two real replicas: event_watch_test.cc.)
#include "events/stream_census.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace calndro::events {
namespace {

// Two replicas' censuses on one (fake) database.
struct TwoReplicas {
  FakeStores database;
  DatabaseStreamCensus a{database, "replica-a"};
  DatabaseStreamCensus b{database, "replica-b"};
};

TEST(StreamCensus, AdmitsWhileTheCallersStreamsOnAllReplicasAreUnderTheLimit) {
  TwoReplicas replicas;
  EXPECT_TRUE(replicas.a.admit("user:7", 0, 3));
  EXPECT_TRUE(replicas.a.admit("user:7", 1, 3));
  // b holds none, but a holds two: one more fits, then none.
  EXPECT_TRUE(replicas.b.admit("user:7", 0, 3));
  EXPECT_FALSE(replicas.b.admit("user:7", 1, 3));
  EXPECT_FALSE(replicas.a.admit("user:7", 2, 3));
  // Another caller counts apart.
  EXPECT_TRUE(replicas.b.admit("token:ab12", 0, 3));
  EXPECT_EQ(replicas.database.stream_census.rows.size(), 3u);
  EXPECT_EQ(replicas.database.stream_census.locked.back(), "token:ab12");
}

TEST(StreamCensus, AWholeRefreshDropsTheCallersThatLeftAndStaleReplicasStopCounting) {
  TwoReplicas replicas;
  ASSERT_TRUE(replicas.a.admit("user:7", 0, 2));
  ASSERT_TRUE(replicas.a.admit("user:7", 1, 2));
  EXPECT_FALSE(replicas.b.admit("user:7", 0, 2));
  // a's streams closed: its refresh frees their places.
  replicas.a.publish({});
  EXPECT_TRUE(replicas.b.admit("user:7", 0, 2));
  // b stops refreshing (it crashed): a no longer counts its stream.
  replicas.database.stream_census.stale.insert("replica-b");
  EXPECT_TRUE(replicas.a.admit("user:7", 0, 2));
  EXPECT_TRUE(replicas.a.admit("user:7", 1, 2));
  replicas.a.publish({{"user:7", 2}});
  EXPECT_FALSE(replicas.database.stream_census.rows.contains({"replica-b", "user:7"}));
}

TEST(StreamCensus, ADatabaseThatRefusesLeavesTheDecisionToThisReplicasCount) {
  TwoReplicas replicas;
  ASSERT_TRUE(replicas.b.admit("user:7", 0, 1));
  replicas.database.next_runs.push_back(absl::UnavailableError("the database is down"));
  EXPECT_TRUE(replicas.a.admit("user:7", 0, 1));
  EXPECT_FALSE(replicas.a.admit("user:7", 0, 1));
}

// A census that admits while `room` lasts, and records what it was told.
class CountedCensus final : public StreamCensus {
 public:
  int room = 0;
  std::vector<std::size_t> asked_with;  // open_here of each admit()
  std::vector<std::map<std::string, std::size_t>> published;

  bool admit(const std::string&, std::size_t open_here, std::size_t) override {
    asked_with.push_back(open_here);
    return room-- > 0;
  }
  void publish(const std::map<std::string, std::size_t>& open) override { published.push_back(open); }
};

TEST(EventStreamsAdmission, TheCensusIsAskedOnlyUnderTheLocalLimitAndARefusalCountsNothing) {
  CountedCensus census;
  census.room = 1;
  EventStreams streams({.per_caller = 2, .workers = 1}, &census);
  EXPECT_TRUE(streams.admit("user:1"));
  EXPECT_FALSE(streams.admit("user:1"));  // the census said no: not counted here
  EXPECT_EQ(census.asked_with, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(streams.open_streams(), 1u);
  census.room = 5;
  EXPECT_TRUE(streams.admit("user:1"));
  EXPECT_FALSE(streams.admit("user:1"));  // this replica's own limit: the census is not asked
  EXPECT_EQ(census.asked_with.size(), 3u);
  streams.leave("user:1");
  streams.leave("user:1");
  EXPECT_EQ(streams.open_streams(), 0u);
}

TEST(EventStreamsAdmission, WithoutACensusOnlyThisReplicaCounts) {
  EventStreams streams({.per_caller = 1, .workers = 1});
  EXPECT_TRUE(streams.admit("user:1"));
  EXPECT_FALSE(streams.admit("user:1"));
  EXPECT_TRUE(streams.admit("user:2"));
}

}  // namespace
}  // namespace calndro::events
