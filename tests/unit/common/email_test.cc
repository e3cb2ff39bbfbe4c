#include "common/email.h"

#include <gtest/gtest.h>

namespace calndro {
namespace {

TEST(NormalizeEmail, AcceptsAndLowerCases) {
  std::string error;
  EXPECT_EQ(normalize_email("you@here.net", error).value_or(""), "you@here.net");
  EXPECT_EQ(normalize_email("You@Here.NET", error).value_or(""), "you@here.net");
  EXPECT_EQ(normalize_email("first.last+tag@sub.example.co.uk", error).value_or(""),
            "first.last+tag@sub.example.co.uk");
  EXPECT_EQ(normalize_email("o'brien@x-y.io", error).value_or(""), "o'brien@x-y.io");
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
    std::string error;
    EXPECT_FALSE(normalize_email(text, error).has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  std::string error;
  EXPECT_FALSE(normalize_email(too_long, error).has_value());
  EXPECT_NE(error.find("254"), std::string::npos);
  EXPECT_FALSE(normalize_email(long_local, error).has_value());
}

}  // namespace
}  // namespace calndro
