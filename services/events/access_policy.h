#pragma once

// SPEC §2 as a pure function: who may do what. Authentication (who is
// calling) happens before, in Authenticator; existence checks (404) too.
namespace calndro::events {

enum class Action { kList, kCreate, kDetail, kUpdate, kDelete, kNotify, kReadLog };

// How the authenticated caller relates to the event in question (for kList
// and kCreate there is no event: kParty and kNonParty mean "a registered user").
enum class Relation {
  kStaff,
  kParty,               // registered, active user who is a party of the event
  kNonParty,            // registered, active user who is not
  kTokenForThisEvent,   // email token issued for this event
  kTokenForOtherEvent,  // email token issued for another event
};

enum class Decision { kAllow, kDeny };

constexpr Decision decide(Action action, Relation relation) {
  switch (action) {
    case Action::kList:
    case Action::kCreate:
      // Email tokens open one event, not the service.
      return (relation == Relation::kTokenForThisEvent || relation == Relation::kTokenForOtherEvent)
                 ? Decision::kDeny
                 : Decision::kAllow;
    case Action::kDelete:
      return relation == Relation::kStaff ? Decision::kAllow : Decision::kDeny;
    case Action::kDetail:
    case Action::kUpdate:
    case Action::kNotify:
    case Action::kReadLog:
      return (relation == Relation::kStaff || relation == Relation::kParty ||
              relation == Relation::kTokenForThisEvent)
                 ? Decision::kAllow
                 : Decision::kDeny;
  }
  return Decision::kDeny;
}

}  // namespace calndro::events
