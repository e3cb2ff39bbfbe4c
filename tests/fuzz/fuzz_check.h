#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant a fuzz target checks: a violation prints what failed and
// aborts, which libFuzzer reports as a crash and saves the input.
#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
