#pragma once

// SIGINT and SIGTERM end every calndro process cleanly. They are blocked in
// all threads (call block_termination_signals() first in main, before any
// thread starts: gRPC, the pool, httplib) and received by one waiter.
namespace calndro {

void block_termination_signals();

// Blocks until SIGINT or SIGTERM arrives; returns its number.
int wait_for_termination_signal();

}  // namespace calndro
