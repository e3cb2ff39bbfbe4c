#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <set>

#include "notify/token_store.h"

#include "support/cases.h"
#include "support/counting_random.h"

namespace calndro::notify {
namespace {

using calndro::testing::CountingRandom;

class FixedRandom final : public RandomSource {
 public:
  void fill(unsigned char* out, std::size_t size) override { std::memset(out, 0xab, size); }
};

TEST(Token, FortyLowerCaseHexCharacters) {
  init_crypto();
  CountingRandom random;
  const MintedToken minted = mint_token(random);
  EXPECT_EQ(minted.token, "000102030405060708090a0b0c0d0e0f10111213");
  EXPECT_EQ(minted.token.size(), 40u);
  for (char c : minted.token) {
    EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)));
  }
  EXPECT_TRUE(well_formed_token(minted.token));
}

TEST(Token, UsesTheInjectedRandomSource) {
  FixedRandom random;
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    expected += "ab";
  }
  EXPECT_EQ(mint_token(random).token, expected);
}

TEST(Token, HashIsSha256OfTheToken) {
  CountingRandom random;
  const MintedToken minted = mint_token(random);
  EXPECT_EQ(minted.hash, sha256_hex(minted.token));
  EXPECT_EQ(minted.hash.size(), 64u);
}

TEST(Token, FingerprintIsShortAndRevealsNothing) {
  CountingRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const MintedToken minted = mint_token(random);
    EXPECT_EQ(minted.fingerprint.size(), kFingerprintLength);
    EXPECT_EQ(minted.fingerprint, token_fingerprint(minted.token));
    // Not a piece of the token, nor of the stored lookup hash.
    EXPECT_EQ(minted.token.find(minted.fingerprint), std::string::npos);
    EXPECT_FALSE(minted.hash.starts_with(minted.fingerprint));
    EXPECT_NE(minted.fingerprint, minted.token.substr(0, kFingerprintLength));
    seen.insert(minted.fingerprint);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Token, WellFormed) {
  const auto well_formed = [](const std::string& token) { return well_formed_token(token); };
  testing::expect_all(
      well_formed, {"0123456789abcdef0123456789abcdef01234567", "0123456789ABCDEF0123456789abcdef01234567"});
  testing::expect_none(
      well_formed, {"", "0123456789abcdef0123456789abcdef0123456",
                    "0123456789abcdef0123456789abcdef012345678", "0123456789abcdef0123456789abcdef0123456g",
                    std::string("0123456789abcdef0123456789abcdef0123456\0", 40)});
  EXPECT_EQ(canonical_token("ABCDEF0123456789ABCDEF0123456789ABCDEF01"),
            "abcdef0123456789abcdef0123456789abcdef01");
}

}  // namespace
}  // namespace calndro::notify
