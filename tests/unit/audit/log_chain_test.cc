// The audit log's chain, head and check (common/audit) against
// tests/audit/vectors.json, which tests/audit/make_vectors.py computes with
// Python's json.dumps, hashlib and PyNaCl: the same bytes from an
// implementation that shares no code with this one.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/audit/chain_check.h"
#include "common/audit/log_chain.h"
#include "common/audit/log_signing_key.h"

namespace calndro::audit {
namespace {

using json = nlohmann::json;

json vectors() {
  std::ifstream file(std::string(CALNDRO_SOURCE_DIR) + "/tests/audit/vectors.json");
  return json::parse(file);
}

ChainedEntry entry_of(const json& vector, std::int64_t event_id) {
  ChainedEntry entry{.event_id = event_id,
                     .seq = vector.at("seq").get<std::int64_t>(),
                     .when = *parse_instant(vector.at("when").get<std::string>()),
                     .occurrence = vector.at("occurrence").get<std::string>(),
                     .effector = vector.at("effector").get<std::string>(),
                     .data = vector.at("data")};
  for (const json& slot : vector.at("slots")) {
    entry.slots.push_back({*parse_instant(slot.at("begin").get<std::string>()),
                           *parse_duration(slot.at("duration").get<std::string>())});
  }
  return entry;
}

std::vector<StoredEntry> stored_chain(const json& all) {
  std::vector<StoredEntry> chain;
  for (const json& vector : all.at("entries")) {
    chain.push_back({entry_of(vector, all.at("event").get<std::int64_t>()),
                     vector.at("prev").get<std::string>(), vector.at("hash").get<std::string>()});
  }
  return chain;
}

LogHead head_of(const json& all) {
  const json& head = all.at("head");
  return {.event_id = all.at("event").get<std::int64_t>(),
          .seq = head.at("seq").get<std::int64_t>(),
          .hash = head.at("hash").get<std::string>(),
          .signed_at = *parse_instant(head.at("signed_at").get<std::string>()),
          .signature = head.at("signature").get<std::string>()};
}

TEST(LogChain, CanonicalFormAndHashesAreThoseOfTheIndependentImplementation) {
  const json all = vectors();
  ASSERT_GE(all.at("entries").size(), 6U);
  std::string prev(kGenesisHash);
  for (const json& vector : all.at("entries")) {
    const ChainedEntry entry = entry_of(vector, all.at("event").get<std::int64_t>());
    SCOPED_TRACE("seq " + std::to_string(entry.seq));
    EXPECT_EQ(canonical_entry(entry), vector.at("canonical").get<std::string>());
    EXPECT_EQ(vector.at("prev").get<std::string>(), prev);
    EXPECT_EQ(entry_hash(prev, entry), vector.at("hash").get<std::string>());
    prev = vector.at("hash").get<std::string>();
  }
}

TEST(LogChain, TheHeadIsSignedAsTheIndependentImplementationSignsIt) {
  const json all = vectors();
  const auto key = LogSigningKey::from_seed_base64(all.at("seed").get<std::string>());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->public_key_base64(), all.at("public_key").get<std::string>());
  EXPECT_EQ(key->key_id(), all.at("key_id").get<std::string>());
  const LogHead head = head_of(all);
  EXPECT_EQ(head_text(head), all.at("head").at("text").get<std::string>());
  // Ed25519 signatures are deterministic: the same bytes as PyNaCl's.
  EXPECT_EQ(key->sign(head_text(head)), head.signature);
  EXPECT_TRUE(verify_signature(key->public_key_base64(), head_text(head), head.signature));
  const auto other = LogSigningKey::from_seed_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_FALSE(verify_signature(other->public_key_base64(), head_text(head), head.signature));
  EXPECT_FALSE(verify_signature(key->public_key_base64(), head_text(head) + " ", head.signature));
  EXPECT_FALSE(verify_signature("not base64", head_text(head), head.signature));
}

TEST(LogChain, AFractionalNumberHasNoCanonicalForm) {
  ChainedEntry entry;
  entry.data = {{"n", 1.5}};
  EXPECT_THROW(canonical_entry(entry), std::invalid_argument);
  entry.data = {{"n", 2.0}};  // whole: written as the integer 2
  EXPECT_NE(canonical_entry(entry).find("\"n\":2}"), std::string::npos);
  EXPECT_THROW(chain_hash("12", "x"), std::invalid_argument);
  EXPECT_THROW(chain_hash(std::string(64, 'g'), "x"), std::invalid_argument);
}

class ChainCheck : public ::testing::Test {
 protected:
  json all_ = vectors();
  std::vector<StoredEntry> chain_ = stored_chain(all_);
  LogHead head_ = head_of(all_);
  std::string key_ = all_.at("public_key").get<std::string>();
};

TEST_F(ChainCheck, AnIntactChainChecksOutInAnyOrder) {
  EXPECT_EQ(first_break(chain_, head_, key_), std::nullopt);
  std::reverse(chain_.begin(), chain_.end());
  EXPECT_EQ(first_break(chain_, head_, key_), std::nullopt);
  EXPECT_EQ(first_break({}, std::nullopt, key_), std::nullopt);
}

TEST_F(ChainCheck, AChangedEntryIsNamed) {
  chain_[2].content.effector = "mallory@example.org";
  EXPECT_EQ(first_break(chain_, head_, key_), "seq 3: changed");
}

TEST_F(ChainCheck, AMissingEntryIsNamed) {
  chain_.erase(chain_.begin() + 2);
  EXPECT_EQ(first_break(chain_, head_, key_), "seq 3: missing");
}

TEST_F(ChainCheck, TheLastEntryMissingIsNamedFromTheHead) {
  chain_.pop_back();
  EXPECT_EQ(first_break(chain_, head_, key_), "seq " + std::to_string(head_.seq) + ": missing");
}

TEST_F(ChainCheck, SwappedEntriesAreOutOfPlace) {
  std::swap(chain_[1].content.seq, chain_[2].content.seq);
  EXPECT_EQ(first_break(chain_, head_, key_), "seq 2: out of place");
}

TEST_F(ChainCheck, AnInsertedEntryIsOutOfPlace) {
  for (std::size_t i = 2; i < chain_.size(); ++i) {
    chain_[i].content.seq += 1;
  }
  StoredEntry inserted = chain_[1];
  inserted.content.seq = 3;
  inserted.content.effector = "mallory@example.org";
  chain_.insert(chain_.begin() + 2, inserted);
  EXPECT_EQ(first_break(chain_, head_, key_), "seq 3: out of place");
}

TEST_F(ChainCheck, AChainRewrittenConsistentlyFailsAtTheSignedHead) {
  chain_[0].content.effector = "mallory@example.org";
  std::string prev(kGenesisHash);
  for (StoredEntry& entry : chain_) {
    entry.prev = prev;
    entry.hash = entry_hash(prev, entry.content);
    prev = entry.hash;
  }
  EXPECT_EQ(first_break(chain_, head_, key_),
            "seq " + std::to_string(head_.seq) + ": does not match the signed head");
}

TEST_F(ChainCheck, AHeadSignedWithAnotherKeyOrAlteredIsNamed) {
  const auto other = LogSigningKey::from_seed_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(first_break(chain_, head_, other->public_key_base64()),
            "seq " + std::to_string(head_.seq) + ": the head's signature does not verify with the key");
  head_.signed_at += std::chrono::seconds(1);
  EXPECT_NE(first_break(chain_, head_, key_), std::nullopt);
}

TEST_F(ChainCheck, EntriesPastTheHeadOrWithoutOneAreNamed) {
  const std::int64_t head_seq = head_.seq;
  LogHead earlier = head_;
  earlier.seq = head_seq - 1;
  earlier.hash = chain_[static_cast<std::size_t>(head_seq - 2)].hash;
  const auto key = LogSigningKey::from_seed_base64(all_.at("seed").get<std::string>());
  earlier.signature = key->sign(head_text(earlier));
  EXPECT_EQ(first_break(chain_, earlier, key_),
            "seq " + std::to_string(head_seq) + ": not under the signed head");
  EXPECT_EQ(first_break(chain_, std::nullopt, key_), "seq 1: no signed head covers it");
}

TEST(LogSigningKeyFile, ACreatedKeyIsKeptPrivateAndReadBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("calndro-key-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "log-signing.key";
  std::filesystem::remove(path);
  EXPECT_FALSE(LogSigningKey::load(path, MissingKey::kRefuse).ok());
  const auto created = LogSigningKey::load(path, MissingKey::kCreate);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  // Kept: a second start (or replica) signs with the same key.
  const auto again = LogSigningKey::load(path, MissingKey::kCreate);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key_base64(), created->public_key_base64());
  std::ofstream(path) << "not a key\n";
  const auto bad = LogSigningKey::load(path, MissingKey::kRefuse);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace calndro::audit
