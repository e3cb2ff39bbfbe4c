#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace calndro::config {
namespace {

// Sets (or unsets, for nullptr) a variable for the test's duration.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
    }
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

const std::string kLongToken(40, 'k');

TEST(LoopbackListen, OnlyThisMachineCounts) {
  for (const char* local :
       {"127.0.0.1:50052", "127.1.2.3:1", "localhost:50052", "[::1]:50052", "unix:/run/x.sock"}) {
    EXPECT_TRUE(is_loopback_listen(local)) << local;
  }
  for (const char* open :
       {"0.0.0.0:50052", "[::]:50052", "10.0.0.5:50052", "notify:50052", "127.evil.example:1", ":50052"}) {
    EXPECT_FALSE(is_loopback_listen(open)) << open;
  }
}

TEST(InternalToken, TheDefaultServesLoopbackOnly) {
  ScopedEnv token("CALNDRO_INTERNAL_TOKEN", nullptr);
  ScopedEnv file("CALNDRO_INTERNAL_TOKEN_FILE", nullptr);
  const auto local = internal_token("127.0.0.1:50052");
  EXPECT_EQ(local.value, kDefaultInternalToken);
  EXPECT_TRUE(local.is_default);
  try {
    (void)internal_token("0.0.0.0:50052");
    FAIL() << "the default was accepted beyond loopback";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("CALNDRO_INTERNAL_TOKEN"), std::string::npos) << error.what();
  }
}

TEST(InternalToken, ShortOrDefaultValuesAreRefusedBeyondLoopback) {
  ScopedEnv file("CALNDRO_INTERNAL_TOKEN_FILE", nullptr);
  for (const char* bad : {"short", kDefaultInternalToken, "CHANGE-ME"}) {
    ScopedEnv token("CALNDRO_INTERNAL_TOKEN", bad);
    EXPECT_THROW((void)internal_token("0.0.0.0:50052"), std::runtime_error) << bad;
    EXPECT_NO_THROW((void)internal_token("127.0.0.1:50052")) << bad;
  }
  ScopedEnv token("CALNDRO_INTERNAL_TOKEN", kLongToken.c_str());
  const auto open = internal_token("0.0.0.0:50052");
  EXPECT_EQ(open.value, kLongToken);
  EXPECT_FALSE(open.is_default);
}

TEST(InternalToken, ReadFromAFile) {
  const auto path = std::filesystem::temp_directory_path() / ("calndro-token-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << kLongToken << "\n";
  }
  ScopedEnv token("CALNDRO_INTERNAL_TOKEN", nullptr);
  ScopedEnv file("CALNDRO_INTERNAL_TOKEN_FILE", path.c_str());
  EXPECT_EQ(internal_token("0.0.0.0:50052").value, kLongToken);
  {
    ScopedEnv both("CALNDRO_INTERNAL_TOKEN", kLongToken.c_str());
    EXPECT_THROW((void)internal_token("0.0.0.0:50052"), std::runtime_error);
  }
  std::filesystem::remove(path);
  EXPECT_THROW((void)internal_token("127.0.0.1:50052"), std::runtime_error);
}

TEST(InternalToken, TheGatewayNeedsARealOneForAnEventServiceBeyondLoopback) {
  ScopedEnv file("CALNDRO_INTERNAL_TOKEN_FILE", nullptr);
  {
    ScopedEnv token("CALNDRO_INTERNAL_TOKEN", nullptr);
    EXPECT_TRUE(internal_token_for_target("127.0.0.1:50051").is_default);
    for (const char* remote : {"dns:///events:50051", "events:50051", "ipv4:10.0.0.1:1,10.0.0.2:1"}) {
      try {
        (void)internal_token_for_target(remote);
        ADD_FAILURE() << "the default was accepted for " << remote;
      } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("event service"), std::string::npos) << error.what();
      }
    }
  }
  ScopedEnv token("CALNDRO_INTERNAL_TOKEN", kLongToken.c_str());
  EXPECT_EQ(internal_token_for_target("dns:///events:50051").value, kLongToken);
}

TEST(InternalToken, OfferedCredentialsAreComparedWhole) {
  EXPECT_TRUE(is_internal_credential(kLongToken, kLongToken));
  EXPECT_FALSE(is_internal_credential(kLongToken + "x", kLongToken));
  EXPECT_FALSE(is_internal_credential(kLongToken.substr(1), kLongToken));
  EXPECT_FALSE(is_internal_credential("", kLongToken));
  EXPECT_FALSE(is_internal_credential("", "")) << "an unset credential admits nobody";
}

}  // namespace
}  // namespace calndro::config
