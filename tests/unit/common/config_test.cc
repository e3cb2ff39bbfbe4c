#include "common/base/config.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace calndro::config {
namespace {

using settings::Environment;
using settings::Process;

// The internal credential as `process` reads it from `environment`.
InternalToken token_of(const Environment& environment, const std::string& listen_address,
                       Process process = Process::kNotify) {
  return internal_token(settings::Values::load(process, environment), listen_address);
}

InternalToken gateway_token_of(const Environment& environment, const std::string& target) {
  return internal_token_for_target(settings::Values::load(Process::kGateway, environment), target);
}

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
  const auto local = token_of({}, "127.0.0.1:50052");
  EXPECT_EQ(local.value, kDefaultInternalToken);
  EXPECT_TRUE(local.is_default);
  EXPECT_TRUE(token_of({{"CALNDRO_INTERNAL_TOKEN", ""}}, "127.0.0.1:50051", Process::kEvents).is_default);
  try {
    (void)token_of({}, "0.0.0.0:50052");
    FAIL() << "the default was accepted beyond loopback";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("CALNDRO_INTERNAL_TOKEN"), std::string::npos) << error.what();
  }
}

TEST(InternalToken, ShortOrDefaultValuesAreRefusedBeyondLoopback) {
  for (const char* bad : {"short", kDefaultInternalToken, "CHANGE-ME"}) {
    const Environment environment = {{"CALNDRO_INTERNAL_TOKEN", bad}};
    EXPECT_THROW((void)token_of(environment, "0.0.0.0:50052"), std::runtime_error) << bad;
    EXPECT_NO_THROW((void)token_of(environment, "127.0.0.1:50052")) << bad;
  }
  const auto open = token_of({{"CALNDRO_INTERNAL_TOKEN", kLongToken}}, "0.0.0.0:50052");
  EXPECT_EQ(open.value, kLongToken);
  EXPECT_FALSE(open.is_default);
}

TEST(InternalToken, ReadFromAFile) {
  const auto path = std::filesystem::temp_directory_path() / ("calndro-token-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << kLongToken << "\n";
  }
  const Environment file = {{"CALNDRO_INTERNAL_TOKEN_FILE", path.string()}};
  EXPECT_EQ(token_of(file, "0.0.0.0:50052").value, kLongToken);
  try {
    (void)token_of({{"CALNDRO_INTERNAL_TOKEN_FILE", path.string()}, {"CALNDRO_INTERNAL_TOKEN", kLongToken}},
                   "0.0.0.0:50052");
    ADD_FAILURE() << "both were accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("not both"), std::string::npos) << error.what();
    EXPECT_EQ(std::string(error.what()).find(kLongToken), std::string::npos) << "the secret in a message";
  }
  std::filesystem::remove(path);
  try {
    (void)token_of(file, "127.0.0.1:50052");
    ADD_FAILURE() << "a missing file was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("CALNDRO_INTERNAL_TOKEN_FILE"), std::string::npos)
        << error.what();
  }
}

TEST(InternalToken, TheGatewayNeedsARealOneForAnEventServiceBeyondLoopback) {
  EXPECT_TRUE(gateway_token_of({}, "127.0.0.1:50051").is_default);
  for (const char* remote : {"dns:///events:50051", "events:50051", "ipv4:10.0.0.1:1,10.0.0.2:1"}) {
    try {
      (void)gateway_token_of({}, remote);
      ADD_FAILURE() << "the default was accepted for " << remote;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("event service"), std::string::npos) << error.what();
    }
  }
  EXPECT_EQ(gateway_token_of({{"CALNDRO_INTERNAL_TOKEN", kLongToken}}, "dns:///events:50051").value,
            kLongToken);
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
