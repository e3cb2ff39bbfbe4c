#include "events/access_policy.h"

#include <gtest/gtest.h>

#include "events/authenticator.h"

namespace calndro::events {
namespace {

// SPEC §2's table, row by row. Columns: staff, the creator (a registered
// party), another registered party, a registered non-party, an email token
// for this event issued to the creator, one issued to another party (and for
// another event: never). No-credential callers never reach decide():
// authentication refuses them (401).
struct Row {
  Action action;
  Decision staff, creator, party, non_party, creator_token, token_here;
};

TEST(AccessPolicy, MatchesSpecTable) {
  const auto A = Decision::kAllow;
  const auto D = Decision::kDeny;
  const Row table[] = {
      {Action::kList, A, A, A, A, D, D},          {Action::kCreate, A, A, A, A, D, D},
      {Action::kDetail, A, A, A, D, A, A},        {Action::kUpdate, A, A, A, D, A, A},
      {Action::kDelete, A, D, D, D, D, D},        {Action::kNotify, A, A, A, D, A, A},
      {Action::kReadLog, A, A, A, D, A, A},       {Action::kAgree, A, A, D, D, A, D},
      {Action::kRetitleAgreed, A, A, D, D, A, D},
  };
  for (const Row& row : table) {
    const int action = static_cast<int>(row.action);
    EXPECT_EQ(decide(row.action, Relation::kStaff), row.staff) << action;
    EXPECT_EQ(decide(row.action, Relation::kCreator), row.creator) << action;
    EXPECT_EQ(decide(row.action, Relation::kParty), row.party) << action;
    EXPECT_EQ(decide(row.action, Relation::kNonParty), row.non_party) << action;
    EXPECT_EQ(decide(row.action, Relation::kCreatorToken), row.creator_token) << action;
    EXPECT_EQ(decide(row.action, Relation::kTokenForThisEvent), row.token_here) << action;
    EXPECT_EQ(decide(row.action, Relation::kTokenForOtherEvent), Decision::kDeny) << action;
  }
}

TEST(CallerRelation, FollowsKindAndMembership) {
  EventRecord event;
  event.id = 7;
  event.parties = {"you@here.net", "they@thar.net"};
  event.creator = "you@here.net";

  Caller creator;
  creator.email = "you@here.net";
  EXPECT_EQ(creator.relation_to(&event), Relation::kCreator);

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
  Caller creator_token = token;
  creator_token.email = "you@here.net";
  EXPECT_EQ(creator_token.relation_to(&event), Relation::kCreatorToken);
  token.token_event_id = 8;
  EXPECT_EQ(token.relation_to(&event), Relation::kTokenForOtherEvent);
  EXPECT_EQ(token.relation_to(nullptr), Relation::kTokenForOtherEvent);
  // A token acts as its party, never with the staff flag of that party.
  token.staff = true;
  EXPECT_EQ(token.relation_to(&event), Relation::kTokenForOtherEvent);
}

}  // namespace
}  // namespace calndro::events
