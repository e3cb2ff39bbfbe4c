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
  const auto A = Decision::Allow;
  const auto D = Decision::Deny;
  const Row table[] = {
      {Action::List, A, A, A, D},    {Action::Create, A, A, A, D}, {Action::Detail, A, A, D, A},
      {Action::Update, A, A, D, A},  {Action::Delete, A, D, D, D}, {Action::Notify, A, A, D, A},
      {Action::ReadLog, A, A, D, A},
  };
  for (const Row& row : table) {
    const int action = static_cast<int>(row.action);
    EXPECT_EQ(decide(row.action, Relation::Staff), row.staff) << action;
    EXPECT_EQ(decide(row.action, Relation::Party), row.party) << action;
    EXPECT_EQ(decide(row.action, Relation::NonParty), row.non_party) << action;
    EXPECT_EQ(decide(row.action, Relation::TokenForThisEvent), row.token_here) << action;
    EXPECT_EQ(decide(row.action, Relation::TokenForOtherEvent), Decision::Deny) << action;
  }
}

TEST(CallerRelation, FollowsKindAndMembership) {
  EventRecord event;
  event.id = 7;
  event.parties = {"you@here.net", "they@thar.net"};

  Caller party;
  party.email = "they@thar.net";
  EXPECT_EQ(party.relation_to(&event), Relation::Party);
  EXPECT_EQ(party.relation_to(nullptr), Relation::Party);

  Caller outsider;
  outsider.email = "who@else.org";
  EXPECT_EQ(outsider.relation_to(&event), Relation::NonParty);

  Caller staff;
  staff.email = "admin@calndro.io";
  staff.staff = true;
  EXPECT_EQ(staff.relation_to(&event), Relation::Staff);

  Caller token;
  token.kind = Caller::Kind::EmailToken;
  token.email = "they@thar.net";
  token.token_event_id = 7;
  EXPECT_EQ(token.relation_to(&event), Relation::TokenForThisEvent);
  token.token_event_id = 8;
  EXPECT_EQ(token.relation_to(&event), Relation::TokenForOtherEvent);
  EXPECT_EQ(token.relation_to(nullptr), Relation::TokenForOtherEvent);
  // A token acts as its party, never with the staff flag of that party.
  token.staff = true;
  EXPECT_EQ(token.relation_to(&event), Relation::TokenForOtherEvent);
}

}  // namespace
}  // namespace calndro::events
