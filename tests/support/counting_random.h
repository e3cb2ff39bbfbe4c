// Predictable "randomness" for the unit tests that mint tokens, secrets and
// titles: what they draw follows from a counter, so a failure can be replayed.
#pragma once

#include <cstddef>

#include "common/crypto/crypto.h"

namespace calndro::testing {

class CountingRandom final : public RandomSource {
 public:
  enum class Bytes {
    kSequential,  // 0, 1, 2, ...: a test knows every byte it gets
    kSpread,      // the counter's high bits mixed in: thousands of draws before a value repeats
  };

  explicit CountingRandom(Bytes bytes = Bytes::kSequential) : bytes_(bytes) {}

  void fill(unsigned char* out, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) {
      const unsigned n = next_++;
      out[i] =
          static_cast<unsigned char>(bytes_ == Bytes::kSequential ? n : n * 37 + (n >> 8) * 101 + i * 11);
    }
  }

 private:
  Bytes bytes_;
  unsigned next_ = 0;
};

}  // namespace calndro::testing
