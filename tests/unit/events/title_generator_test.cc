#include "events/title_generator.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "fakes.h"

namespace calndro::events {
namespace {

TEST(TitleGenerator, MakesShortAlternatingWords) {
  CountingRandom random(CountingRandom::Bytes::kSpread);
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string title = generate_title(random);
    ASSERT_GE(title.size(), 5u);
    ASSERT_LE(title.size(), 7u);
    for (std::size_t k = 0; k + 1 < title.size(); k += 2) {
      EXPECT_EQ(std::strchr("aeiouy", title[k]), nullptr) << title;
      EXPECT_NE(std::strchr("aeiouy", title[k + 1]), nullptr) << title;
    }
    seen.insert(title);
  }
  EXPECT_GT(seen.size(), 10u);
}

}  // namespace
}  // namespace calndro::events
