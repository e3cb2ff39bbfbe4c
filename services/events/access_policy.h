#pragma once

// SPEC §2 as a pure function: who may do what. Authentication (who is
// calling) happens before, in Authenticator; existence checks (404) too.
namespace calndro::events {

enum class Action { List, Create, Detail, Update, Delete, Notify, ReadLog };

// How the authenticated caller relates to the event in question (for List
// and Create there is no event: Party and NonParty mean "a registered user").
enum class Relation {
  Staff,
  Party,               // registered, active user who is a party of the event
  NonParty,            // registered, active user who is not
  TokenForThisEvent,   // email token issued for this event
  TokenForOtherEvent,  // email token issued for another event
};

enum class Decision { Allow, Deny };

constexpr Decision decide(Action action, Relation relation) {
  switch (action) {
    case Action::List:
    case Action::Create:
      // Email tokens open one event, not the service.
      return (relation == Relation::TokenForThisEvent || relation == Relation::TokenForOtherEvent)
                 ? Decision::Deny
                 : Decision::Allow;
    case Action::Delete:
      return relation == Relation::Staff ? Decision::Allow : Decision::Deny;
    case Action::Detail:
    case Action::Update:
    case Action::Notify:
    case Action::ReadLog:
      return (relation == Relation::Staff || relation == Relation::Party ||
              relation == Relation::TokenForThisEvent)
                 ? Decision::Allow
                 : Decision::Deny;
  }
  return Decision::Deny;
}

}  // namespace calndro::events
