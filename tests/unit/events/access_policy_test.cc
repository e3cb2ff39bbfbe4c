#include "events/access_policy.h"

#include <gtest/gtest.h>

#include "events/authenticator.h"

namespace calndro::events {
namespace {

// SPEC §2's table, row by row. Columns: staff, registered party, registered
// non-party, token holder for this event (and for another event: never).
// No-credential callers never reach decide(): authentication refuses them (401).
struct Row {
  Action action;
  Decision staff, party, non_party, token_here;
};

TEST(AccessPolicy, MatchesSpecTable) {
  const auto A = Decision::kAllow;
  const auto D = Decision::kDeny;
  const Row table[] = {
      {Action::kList, A, A, A, D},    {Action::kCreate, A, A, A, D}, {Action::kDetail, A, A, D, A},
      {Action::kUpdate, A, A, D, A},  {Action::kDelete, A, D, D, D}, {Action::kNotify, A, A, D, A},
      {Action::kReadLog, A, A, D, A},
  };
  for (const Row& row : table) {
    const int action = static_cast<int>(row.action);
    EXPECT_EQ(decide(row.action, Relation::kStaff), row.staff) << action;
    EXPECT_EQ(decide(row.action, Relation::kParty), row.party) << action;
    EXPECT_EQ(decide(row.action, Relation::kNonParty), row.non_party) << action;
    EXPECT_EQ(decide(row.action, Relation::kTokenForThisEvent), row.token_here) << action;
    EXPECT_EQ(decide(row.action, Relation::kTokenForOtherEvent), Decision::kDeny) << action;
  }
}

TEST(CallerRelation, FollowsKindAndMembership) {
  EventRecord event;
  event.id = 7;
  event.parties = {"you@here.net", "they@thar.net"};

  Caller party;
  party.email = "they@thar.net";
  EXPECT_EQ(party.relation_to(&event), Relation::kParty);
  EXPECT_EQ(party.relation_to(nullptr), Relation::kParty);

  Caller outsider;
  outsider.email = "who@else.org";
  EXPECT_EQ(outsider.relation_to(&event), Relation::kNonParty);

  Caller staff;
  staff.email = "admin@calndro.io";
  staff.staff = true;
  EXPECT_EQ(staff.relation_to(&event), Relation::kStaff);

  Caller token;
  token.kind = Caller::Kind::kEmailToken;
  token.email = "they@thar.net";
  token.token_event_id = 7;
  EXPECT_EQ(token.relation_to(&event), Relation::kTokenForThisEvent);
  token.token_event_id = 8;
  EXPECT_EQ(token.relation_to(&event), Relation::kTokenForOtherEvent);
  EXPECT_EQ(token.relation_to(nullptr), Relation::kTokenForOtherEvent);
  // A token acts as its party, never with the staff flag of that party.
  token.staff = true;
  EXPECT_EQ(token.relation_to(&event), Relation::kTokenForOtherEvent);
}

}  // namespace
}  // namespace calndro::events
