#include "common/text/email.h"

#include <gtest/gtest.h>

namespace calndro {
namespace {

TEST(NormalizeEmail, AcceptsAndLowerCases) {
  EXPECT_EQ(normalize_email("you@here.net").value_or(""), "you@here.net");
  EXPECT_EQ(normalize_email("You@Here.NET").value_or(""), "you@here.net");
  EXPECT_EQ(normalize_email("first.last+tag@sub.example.co.uk").value_or(""),
            "first.last+tag@sub.example.co.uk");
  EXPECT_EQ(normalize_email("o'brien@x-y.io").value_or(""), "o'brien@x-y.io");
}

TEST(NormalizeEmail, RefusesInvalid) {
  const std::string too_long = std::string(250, 'a') + "@b.io";
  const std::string long_local = std::string(65, 'a') + "@b.io";
  const char* bad[] = {"",
                       "plain",
                       "@here.net",
                       "you@",
                       "you@here",
                       "you@@here.net",
                       "you@.here.net",
                       "you@here..net",
                       ".you@here.net",
                       "you.@here.net",
                       "y..u@here.net",
                       "you@-here.net",
                       "you@here-.net",
                       "you @here.net",
                       "you@here.123",
                       "you@here.net\n",
                       "a\"b@here.net",
                       "you@h_re.net"};
  for (const char* text : bad) {
    const auto refused = normalize_email(text);
    EXPECT_FALSE(refused.ok()) << text;
    EXPECT_FALSE(refused.status().message().empty()) << text;
  }
  const auto refused = normalize_email(too_long);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("254"), std::string::npos);
  EXPECT_FALSE(normalize_email(long_local).ok());
}

}  // namespace
}  // namespace calndro
