#include "events/title_generator.h"

#include <string_view>

namespace calndro::events {

std::string generate_title(RandomSource& random) {
  static constexpr std::string_view kConsonants = "bcdfghjklmnprstvwz";
  static constexpr std::string_view kVowels = "aeiouy";
  unsigned char bytes[6];
  random.fill(bytes, sizeof bytes);
  const int syllables = 2 + bytes[0] % 2;
  std::string title;
  for (int i = 0; i < syllables; ++i) {
    title += kConsonants[bytes[1 + i] % kConsonants.size()];
    title += kVowels[(bytes[1 + i] / kConsonants.size()) % kVowels.size()];
  }
  title += kConsonants[bytes[5] % kConsonants.size()];
  return title;
}

}  // namespace calndro::events
