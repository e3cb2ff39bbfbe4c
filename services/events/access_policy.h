#pragma once

#include <initializer_list>

// SPEC §2 as a pure function: who may do what. Authentication (who is
// calling) happens before, in Authenticator; existence checks (404) too.
namespace calndro::events {

// kAgree covers reopening too: the same people fix and release the agreement.
// kRetitleAgreed is a new title for an agreed event, which re-invites every
// party; kSetDeadline sets or clears the deadline for answers (and the
// reminder's lead); other changes are kUpdate. kAnswer is answering for
// oneself; kAnswerLate answering after the deadline; kSeeHiddenAnswers
// seeing every party's answers of an event that hides them (SPEC §9).
enum class Action {
  kList,
  kCreate,
  kDetail,
  kUpdate,
  kDelete,
  kNotify,
  kReadLog,
  kAgree,
  kRetitleAgreed,
  kSetDeadline,
  kAnswer,
  kAnswerLate,
  kSeeHiddenAnswers,
};

// How the authenticated caller relates to the event in question (for kList
// and kCreate there is no event: kParty and kNonParty mean "a registered user").
enum class Relation {
  kStaff,
  kCreator,             // registered, active user who created the event (a party too)
  kParty,               // registered, active user who is a party of the event
  kNonParty,            // registered, active user who is not
  kCreatorToken,        // email token for this event, issued to its creator's email
  kTokenForThisEvent,   // email token issued for this event to another party
  kTokenForOtherEvent,  // email token issued for another event
};

enum class Decision { kAllow, kDeny };

// kAllow for a relation among `allowed`, else kDeny.
constexpr Decision allow_only(Relation relation, std::initializer_list<Relation> allowed) {
  for (const Relation each : allowed) {
    if (each == relation) {
      return Decision::kAllow;
    }
  }
  return Decision::kDeny;
}

constexpr Decision decide(Action action, Relation relation) {
  switch (action) {
    case Action::kList:
    case Action::kCreate:
      // Registered users only: email tokens open one event, not the service.
      return allow_only(relation,
                        {Relation::kStaff, Relation::kCreator, Relation::kParty, Relation::kNonParty});
    case Action::kAgree:
    case Action::kRetitleAgreed:
    case Action::kSetDeadline:
    case Action::kAnswerLate:
    case Action::kSeeHiddenAnswers:
      // SPEC §2: the creator by any credential (a token acts as its party),
      // and staff. A new title of an agreed event mails every party a new
      // invitation, from the creator: the same people decide it. The
      // deadline closes answers for everyone else: were they able to move
      // it, it would close nothing.
      return allow_only(relation, {Relation::kStaff, Relation::kCreator, Relation::kCreatorToken});
    case Action::kDelete:
      return allow_only(relation, {Relation::kStaff});
    case Action::kDetail:
    case Action::kUpdate:
    case Action::kNotify:
    case Action::kReadLog:
    case Action::kAnswer:
      // Answers: each party for itself. Staff relate as kStaff whether or
      // not they are parties of the event: the answer is the caller's own
      // row, which only a party has (event_answers.cc refuses staff who are
      // not).
      return allow_only(relation, {Relation::kStaff, Relation::kCreator, Relation::kParty,
                                   Relation::kCreatorToken, Relation::kTokenForThisEvent});
  }
  return Decision::kDeny;
}

}  // namespace calndro::events
