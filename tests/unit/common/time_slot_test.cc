#include "common/text/time_slot.h"

#include <gtest/gtest.h>

namespace calndro {
namespace {

Slot parse_slot(const char* begin, const char* duration) {
  const auto instant = parse_instant(begin);
  const auto length = parse_duration(duration);
  EXPECT_TRUE(instant.ok() && length.ok()) << begin << " " << duration;
  return {instant.value_or(Instant{}), length.value_or(Micros{1})};
}

TEST(SlotEquality, HoldsAcrossSpellingsAndOffsets) {
  EXPECT_EQ(parse_slot("2022-11-01T01:11:22.02", "00:10"),
            parse_slot("2022-11-01T01:11:22.020000Z", "PT10M"));
  EXPECT_EQ(parse_slot("2022-11-01T03:11:22.02+02", "00:10:00"),
            parse_slot("2022-11-01T01:11:22.020000Z", "00:10"));
  EXPECT_EQ(parse_slot("2022-11-01T03:11:22.02+0200", "0 00:10:00"),
            parse_slot("2022-11-01T03:11:22.020+02:00", "PT600S"));
  EXPECT_NE(parse_slot("2022-11-01T01:11:22Z", "00:10"), parse_slot("2022-11-01T01:11:22Z", "00:11"));
}

TEST(CanonicalSlotSet, SortsByBeginThenDurationAndFolds) {
  const std::vector<Slot> slots = {
      parse_slot("2022-11-02T00:00Z", "01:00"), parse_slot("2022-11-01T00:00Z", "02:00"),
      parse_slot("2022-11-01T02:00+02", "01:00"), parse_slot("2022-11-01T00:00Z", "01:00")};
  const auto canonical = canonical_slot_set(slots);
  ASSERT_EQ(canonical.size(), 3u);
  EXPECT_EQ(canonical[0], parse_slot("2022-11-01T00:00Z", "01:00"));
  EXPECT_EQ(canonical[1], parse_slot("2022-11-01T00:00Z", "02:00"));
  EXPECT_EQ(canonical[2], parse_slot("2022-11-02T00:00Z", "01:00"));
}

TEST(SlotProto, RoundTripsAndValidates) {
  const Slot slot = parse_slot("1969-12-31T23:59:59.5Z", "00:00:00.25");  // negative epoch with fraction
  calndro::common::v1::TimeSlot wire;
  slot_to_proto(slot, wire);
  EXPECT_GE(wire.begin().nanos(), 0);
  const auto back = slot_from_proto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, slot);

  calndro::common::v1::TimeSlot nanos = wire;
  nanos.mutable_begin()->set_nanos(1);
  EXPECT_FALSE(slot_from_proto(nanos).ok());
  calndro::common::v1::TimeSlot zero = wire;
  zero.mutable_duration()->set_seconds(0);
  zero.mutable_duration()->set_nanos(0);
  EXPECT_FALSE(slot_from_proto(zero).ok());
  calndro::common::v1::TimeSlot missing;
  EXPECT_FALSE(slot_from_proto(missing).ok());
  calndro::common::v1::TimeSlot far = wire;
  far.mutable_begin()->set_seconds(253402300800LL);  // year 10000
  EXPECT_FALSE(slot_from_proto(far).ok());
}

}  // namespace
}  // namespace calndro
