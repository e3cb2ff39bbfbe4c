#pragma once

#include "gateway/api/handlers.h"

// GET /ID/changes/ (SPEC §11): the event's changes as Server-Sent Events,
// from a WatchEvent call. The handler waits (on its worker) for the call's
// first message, so that a refusal (401, 403, 404, 429, ...) is an ordinary
// answer; then it hands the stream to the server (Exchange::streaming),
// which writes it from its hub and frees the worker.
namespace calndro::gateway {

// What Last-Event-ID (or ?last_event_id=, for a first connection that
// already holds a version) resumes after; Accept must allow
// text/event-stream (absent, */* and text/* do).
Outcome watch_changes(Exchange& exchange);

}  // namespace calndro::gateway
