// The event schema's migrations on a real database: an upgrade keeps what the
// previous version stored.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/db/migrations.h"
#include "events/migrations.h"
#include "support/harness.h"

namespace calndro::testing {
namespace {

// Migration 0002 moves the parties' emails and the slots onto the event row
// and drops the slots table: events written in 0001's shape read the same
// afterwards (parties in position order, slots sorted), with and without
// slots.
TEST(Migrations, EventRowsTakeTheirPartiesAndSlotsFromTheOldTables) {
  Database db;
  const auto& all = calndro::events::migrations();
  ASSERT_GE(all.size(), 2U);
  ASSERT_EQ(all[1].version, 2);
  ASSERT_EQ(apply_migrations(db.url(), events::kSchema, {all[0]}), 1);

  db.exec(
      "INSERT INTO events.users (id, email) VALUES (1, 'ann@example.com'), (2, 'bob@example.com');"
      "INSERT INTO events.events (id, title, created_by, created_at) VALUES "
      "  (10, 'two slots', 1, now()), (11, 'no slots', 2, now());"
      // Positions out of insertion order, slots inserted latest first.
      "INSERT INTO events.event_parties (event_id, user_id, position) VALUES (10, 2, 2), (10, 1, 1), (11, 2, "
      "1);"
      "INSERT INTO events.slots (event_id, begin_at, duration_us) VALUES "
      "  (10, '2031-01-02 10:00Z', 1800000000), (10, '2031-01-01 09:00Z', 3600000000);");

  ASSERT_EQ(apply_migrations(db.url(), events::kSchema, all), static_cast<int>(all.size()) - 1);

  EXPECT_EQ(db.scalar("SELECT parties::jsonb::text FROM events.events WHERE id = 10"),
            R"(["ann@example.com", "bob@example.com"])");
  EXPECT_EQ(db.scalar("SELECT slots::jsonb::text FROM events.events WHERE id = 10"),
            "[[1925024400000000, 3600000000], [1925114400000000, 1800000000]]");
  EXPECT_EQ(db.scalar("SELECT parties::jsonb::text FROM events.events WHERE id = 11"),
            R"(["bob@example.com"])");
  EXPECT_EQ(db.scalar("SELECT slots::jsonb::text FROM events.events WHERE id = 11"), "[]");
  EXPECT_EQ(db.scalar("SELECT to_regclass('events.slots') IS NULL"), "t");
  // Migration 0008 copies the creator's email onto the row; such events start open.
  EXPECT_EQ(db.scalar("SELECT creator FROM events.events WHERE id = 11"), "bob@example.com");
  EXPECT_EQ(
      db.scalar("SELECT agreed_slot IS NULL AND calendar_sequence = 0 FROM events.events WHERE id = 10"),
      "t");
  EXPECT_EQ(apply_migrations(db.url(), events::kSchema, all), 0) << "a second run must change nothing";
}

// Migration 0003: user rows are never deleted (events and their party rows
// refer to them without a foreign key).
TEST(Migrations, UsersAreNeverDeleted) {
  Database db;
  ASSERT_EQ(apply_migrations(db.url(), events::kSchema, calndro::events::migrations()),
            static_cast<int>(calndro::events::migrations().size()));
  db.exec("INSERT INTO events.users (email) VALUES ('ann@example.com')");
  EXPECT_THROW(db.exec("DELETE FROM events.users WHERE email = 'ann@example.com'"), std::exception);
  EXPECT_THROW(db.exec("TRUNCATE events.users CASCADE"), std::exception);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.users"), "1");
}

// Runs one of the benchmark's seed files (services/events/seed/) with psql, as
// bench/run.sh does; the exit status of psql.
int run_seed(const Database& db, const std::string& file, const std::vector<std::string>& variables) {
  std::string command = "psql -X -q -v ON_ERROR_STOP=1 -d '" + db.url() + "'";
  for (const auto& variable : variables) {
    command += " -v '" + variable + "'";
  }
  command += " -f '" + std::string(CALNDRO_SOURCE_DIR) + "/services/events/seed/" + file + "'";
  return std::system(command.c_str());
}

// The seed files write the event tables directly: a migration that changes
// their shape must change the files too, or the benchmark breaks.
TEST(Migrations, BenchmarkSeedRunsOnTheMigratedSchema) {
  Database db;
  ASSERT_EQ(apply_migrations(db.url(), events::kSchema, calndro::events::migrations()),
            static_cast<int>(calndro::events::migrations().size()));
  db.exec("INSERT INTO events.users (email) VALUES ('bulk@bench.test'), ('hank@bench.test')");

  ASSERT_EQ(run_seed(db, "bench_events.sql",
                     {"count=30", "creator=bulk@bench.test", "party=hank@bench.test", "every=3"}),
            0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.events"), "30");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.event_parties p JOIN events.users u ON u.id = p.user_id "
                      "WHERE u.email = 'hank@bench.test'"),
            "10");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.events WHERE jsonb_array_length(slots::jsonb) = 2"), "30");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.log_entries WHERE occurrence = 'UPDATE'"), "30");

  const std::string event = db.scalar("SELECT min(id) FROM events.events");
  ASSERT_EQ(run_seed(db, "bench_log.sql", {"event=" + event, "total=100", "effector=bulk@bench.test"}), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.log_entries WHERE event_id = " + event), "100");

  // Every party of the event answers every slot.
  ASSERT_EQ(run_seed(db, "bench_answers.sql", {"event=" + event}), 0);
  const std::string expected = db.scalar(
      "SELECT json_array_length(parties) * json_array_length(slots) FROM events.events WHERE id = " + event);
  EXPECT_NE(expected, "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.events e, json_each(e.answers) AS party, "
                      "json_array_elements(party.value) WHERE e.id = " +
                      event),
            expected);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events.events WHERE answers::text <> '{}'"), "1");
}

}  // namespace
}  // namespace calndro::testing
