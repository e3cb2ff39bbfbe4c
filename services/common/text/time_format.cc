#include "common/text/time_format.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <iterator>

namespace calndro {
namespace {

using namespace std::chrono;

// English abbreviations, as RFC 5322 dates and the mails use them.
const char* weekday_name(weekday day) {
  static constexpr std::array<const char*, 7> kNames = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  return kNames[day.c_encoding()];
}

const char* month_name(month of_year) {
  static constexpr std::array<const char*, 12> kNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return kNames[static_cast<unsigned>(of_year) - 1];
}

// A tiny cursor over the input; every read checks bounds.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool take(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Exactly `count` digits.
  bool digits(int count, long long& value) {
    value = 0;
    for (int i = 0; i < count; ++i) {
      if (!is_digit(peek()) || !append_digit(value, text_[pos_++])) {
        return false;
      }
    }
    return true;
  }
  // One to `max` digits (returns how many were read, 0 when none, -1 when
  // there are more than `max`).
  int some_digits(int max, long long& value) {
    value = 0;
    int count = 0;
    while (is_digit(peek())) {
      if (count == max || !append_digit(value, text_[pos_++])) {
        return -1;
      }
      ++count;
    }
    return count;
  }
  // A fraction after '.' or ',': up to 6 digits, as microseconds.
  bool fraction(long long& micros) {
    long long value = 0;
    int count = some_digits(6, value);
    if (count <= 0) {
      return false;
    }
    for (int i = count; i < 6; ++i) {
      value *= 10;
    }
    micros = value;
    return true;
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

 private:
  // value * 10 + digit, false instead of overflowing (callers bound the
  // digit count well below that; this keeps a larger bound from being UB).
  static bool append_digit(long long& value, char digit) {
    return !__builtin_mul_overflow(value, 10, &value) && !__builtin_add_overflow(value, digit - '0', &value);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

const char* kInstantHint = "use ISO 8601, e.g. 2022-11-01T01:11:22Z or 2022-11-01T03:11+02:00";
const char* kDurationHint = "use HH:MM, HH:MM:SS, 'D HH:MM:SS' or ISO 8601 like PT1H30M";

// Per unit, the largest count that fits in kMaxSlotDuration. A larger one is
// refused before any arithmetic, and the sums are checked too: no count can
// wrap around int64 into a short duration ("P30500569W" would be 16 hours).
constexpr long long kMicrosPerSecond = 1'000'000;
constexpr long long kMaxSeconds = kMaxSlotDuration.count() / kMicrosPerSecond;
constexpr long long kMaxWeeks = kMaxSeconds / 604800;
constexpr long long kMaxDays = kMaxSeconds / 86400;
constexpr long long kMaxHours = kMaxSeconds / 3600;
constexpr long long kMaxMinutes = kMaxSeconds / 60;

// total += count * unit_micros, or false when either step would overflow.
bool add_checked(long long& total, long long count, long long unit_micros) {
  long long part = 0;
  return !__builtin_mul_overflow(count, unit_micros, &part) && !__builtin_add_overflow(total, part, &total);
}

absl::StatusOr<Micros> check_duration_range(Micros value) {
  if (value <= Micros::zero()) {
    return absl::InvalidArgumentError("Duration must be greater than zero.");
  }
  if (value > kMaxSlotDuration) {
    return absl::InvalidArgumentError("Duration is longer than 366 days.");
  }
  return value;
}

// "[D ]HH:MM[:SS[.f]]"
absl::StatusOr<Micros> parse_clock_duration(std::string_view text) {
  Cursor in(text);
  long long first = 0;
  int count = in.some_digits(9, first);
  if (count <= 0) {
    return absl::InvalidArgumentError(std::string("Invalid duration; ") + kDurationHint + ".");
  }
  long long days = 0;
  long long hours = first;
  if (in.take(' ')) {
    days = first;
    if (in.some_digits(9, hours) <= 0) {
      return absl::InvalidArgumentError(std::string("Invalid duration; ") + kDurationHint + ".");
    }
  }
  long long minutes = 0;
  long long seconds = 0;
  long long micros = 0;
  if (!in.take(':') || !in.digits(2, minutes)) {
    return absl::InvalidArgumentError(std::string("Invalid duration; ") + kDurationHint + ".");
  }
  if (in.take(':')) {
    if (!in.digits(2, seconds)) {
      return absl::InvalidArgumentError(std::string("Invalid duration; ") + kDurationHint + ".");
    }
    if ((in.take('.') || in.take(',')) && !in.fraction(micros)) {
      return absl::InvalidArgumentError("Invalid duration: at most 6 fractional digits.");
    }
  }
  if (!in.done()) {
    return absl::InvalidArgumentError(std::string("Invalid duration; ") + kDurationHint + ".");
  }
  if (minutes > 59 || seconds > 59) {
    return absl::InvalidArgumentError("Invalid duration: minutes and seconds must be below 60.");
  }
  long long total = 0;
  if (days > kMaxDays || hours > kMaxHours || !add_checked(total, days, 86400 * kMicrosPerSecond) ||
      !add_checked(total, hours, 3600 * kMicrosPerSecond) ||
      !add_checked(total, minutes, 60 * kMicrosPerSecond) || !add_checked(total, seconds, kMicrosPerSecond) ||
      !add_checked(total, micros, 1)) {
    return absl::InvalidArgumentError("Duration is longer than 366 days.");
  }
  return check_duration_range(Micros(total));
}

struct IsoUnit {
  char letter;
  long long max_count;  // the largest count that fits in kMaxSlotDuration
  long long seconds;
};
constexpr IsoUnit kIsoUnits[] = {
    {'W', kMaxWeeks, 604800}, {'D', kMaxDays, 86400}, {'H', kMaxHours, 3600},
    {'M', kMaxMinutes, 60},   {'S', kMaxSeconds, 1},
};

// `letter` is one of kIsoUnits (the caller checked the order of units).
const IsoUnit& iso_unit(char letter) {
  for (const IsoUnit& unit : kIsoUnits) {
    if (unit.letter == letter) {
      return unit;
    }
  }
  return kIsoUnits[std::size(kIsoUnits) - 1];
}

// ISO 8601 "P[nW][nD][T[nH][nM][n[.f]S]]" (no years or months: they have no
// fixed length).
absl::StatusOr<Micros> parse_iso_duration(std::string_view text) {
  Cursor in(text);
  const std::string invalid = std::string("Invalid ISO 8601 duration; ") + kDurationHint + ".";
  if (!in.take('P')) {
    return absl::InvalidArgumentError(invalid);
  }
  long long total = 0;
  bool any = false;
  bool in_time = false;
  char last_unit = '\0';
  // Units must appear in this order, each at most once.
  const std::string_view date_order = "WD";
  const std::string_view time_order = "HMS";
  while (!in.done()) {
    if (!in_time && in.take('T')) {
      in_time = true;
      last_unit = '\0';
      if (in.done()) {
        return absl::InvalidArgumentError(invalid);
      }
      continue;
    }
    long long value = 0;
    if (in.some_digits(9, value) <= 0) {
      return absl::InvalidArgumentError(invalid);
    }
    long long micros = 0;
    const bool has_fraction = in.take('.') || in.take(',');
    if (has_fraction && !in.fraction(micros)) {
      return absl::InvalidArgumentError("Invalid duration: at most 6 fractional digits.");
    }
    char unit = in.peek();
    if (unit == 'Y' || (unit == 'M' && !in_time)) {
      return absl::InvalidArgumentError(
          "Durations in years or months are not allowed; use days, hours, minutes.");
    }
    std::string_view order = in_time ? time_order : date_order;
    std::size_t at = order.find(unit);
    if (unit == '\0' || at == std::string_view::npos || (last_unit != '\0' && at <= order.find(last_unit))) {
      return absl::InvalidArgumentError(invalid);
    }
    if (has_fraction && unit != 'S') {
      return absl::InvalidArgumentError("Invalid duration: only seconds may have a fraction.");
    }
    in.take(unit);
    last_unit = unit;
    const IsoUnit& size = iso_unit(unit);
    if (value > size.max_count || !add_checked(total, value, size.seconds * kMicrosPerSecond) ||
        !add_checked(total, micros, 1)) {
      return absl::InvalidArgumentError("Duration is longer than 366 days.");
    }
    any = true;
  }
  if (!any) {
    return absl::InvalidArgumentError(invalid);
  }
  return check_duration_range(Micros(total));
}

// "Z", "+HH", "+HHMM", "+HH:MM" (or "-"): minutes east of UTC; none is UTC.
absl::StatusOr<long long> parse_utc_offset(Cursor& in) {
  if (in.take('Z') || in.take('z') || (in.peek() != '+' && in.peek() != '-')) {
    return 0;
  }
  const int sign = in.peek() == '-' ? -1 : 1;
  in.take(in.peek());
  long long oh = 0, om = 0;
  if (!in.digits(2, oh)) {
    return absl::InvalidArgumentError("Invalid UTC offset; use Z, +02, +0200 or +02:00.");
  }
  if (!in.done()) {
    in.take(':');
    if (!in.digits(2, om)) {
      return absl::InvalidArgumentError("Invalid UTC offset; use Z, +02, +0200 or +02:00.");
    }
  }
  if (oh > 23 || om > 59) {
    return absl::InvalidArgumentError("UTC offset out of range.");
  }
  return sign * (oh * 60 + om);
}

}  // namespace

absl::StatusOr<Instant> parse_instant(std::string_view text) {
  Cursor in(text);
  long long y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, micros = 0;
  const std::string invalid = std::string("Invalid date-time; ") + kInstantHint + ".";
  if (!in.digits(4, y) || !in.take('-') || !in.digits(2, mo) || !in.take('-') || !in.digits(2, d)) {
    return absl::InvalidArgumentError(invalid);
  }
  if (!(in.take('T') || in.take('t') || in.take(' '))) {
    return absl::InvalidArgumentError(in.done() ? "A time of day is required, e.g. 2022-11-01T09:30Z."
                                                : invalid);
  }
  if (!in.digits(2, h) || !in.take(':') || !in.digits(2, mi)) {
    return absl::InvalidArgumentError(invalid);
  }
  if (in.take(':')) {
    if (!in.digits(2, s)) {
      return absl::InvalidArgumentError(invalid);
    }
    if ((in.take('.') || in.take(',')) && !in.fraction(micros)) {
      return absl::InvalidArgumentError("Invalid date-time: at most 6 fractional digits (microseconds).");
    }
  }
  const absl::StatusOr<long long> offset_minutes = parse_utc_offset(in);
  if (!offset_minutes.ok()) {
    return offset_minutes.status();
  }
  if (!in.done()) {
    return absl::InvalidArgumentError(invalid);
  }
  if (y < 1) {
    return absl::InvalidArgumentError("Year out of range.");
  }
  const year_month_day date{year(static_cast<int>(y)), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) {
    return absl::InvalidArgumentError("Impossible date: " + std::string(text.substr(0, 10)) + ".");
  }
  if (h > 23 || mi > 59 || s > 59) {
    return absl::InvalidArgumentError("Impossible time of day: hours 0-23, minutes and seconds 0-59.");
  }
  // Fixed-width fields (4-digit year, 2-digit offset) bound every term here
  // far below int64's range: no checked arithmetic needed.
  Instant local =
      time_point_cast<Micros>(sys_days(date)) + hours(h) + minutes(mi) + seconds(s) + Micros(micros);
  Instant utc = local - minutes(*offset_minutes);
  const year_month_day utc_date{floor<days>(utc)};
  if (utc_date.year() < year(1) || utc_date.year() > year(9999)) {
    return absl::InvalidArgumentError("Date-time out of range (years 1 to 9999).");
  }
  return utc;
}

absl::StatusOr<Micros> parse_duration(std::string_view text) {
  if (!text.empty() && (text.front() == 'P' || text.front() == 'p')) {
    std::string upper(text);
    for (char& c : upper) {
      c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    return parse_iso_duration(upper);
  }
  if (!text.empty() && text.front() == '-') {
    return absl::InvalidArgumentError("Duration must be greater than zero.");
  }
  return parse_clock_duration(text);
}

namespace {

// Appends `value` (>= 0) in decimal, left-padded with zeros to `width`.
// Formatting runs for every slot and log entry of every response: plain
// digit writing costs a fraction of snprintf's format parsing (bench profile).
void append_padded(std::string& out, long long value, int width) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  const int length = static_cast<int>(end - digits);
  if (length < width) {
    out.append(static_cast<size_t>(width - length), '0');
  }
  out.append(digits, end);
}

// `value` through `append` into a string of its own.
template <typename Value>
std::string formatted(void (*append)(std::string&, Value), Value value) {
  std::string out;
  out.reserve(32);
  append(out, value);
  return out;
}

}  // namespace

std::string format_instant(Instant instant) {
  return formatted(append_instant, instant);
}

void append_instant(std::string& out, Instant instant) {
  const auto day_point = floor<days>(instant);
  const year_month_day date{day_point};
  const hh_mm_ss<Micros> time{instant - day_point};
  // Years 1 to 9999: parse_instant refuses others, and the clock is in range.
  append_padded(out, static_cast<int>(date.year()), 4);
  out.push_back('-');
  append_padded(out, static_cast<unsigned>(date.month()), 2);
  out.push_back('-');
  append_padded(out, static_cast<unsigned>(date.day()), 2);
  out.push_back('T');
  append_padded(out, time.hours().count(), 2);
  out.push_back(':');
  append_padded(out, time.minutes().count(), 2);
  out.push_back(':');
  append_padded(out, time.seconds().count(), 2);
  if (time.subseconds().count() != 0) {
    out.push_back('.');
    append_padded(out, time.subseconds().count(), 6);
  }
  out.push_back('Z');
}

std::string format_duration(Micros duration) {
  return formatted(append_duration, duration);
}

void append_duration(std::string& out, Micros duration) {
  const long long total = duration.count();
  const long long micros = total % 1000000;
  const long long secs = total / 1000000;
  const long long whole_days = secs / 86400;
  const long long rest = secs % 86400;
  if (whole_days > 0) {
    append_padded(out, whole_days, 1);
    out.push_back(' ');
  }
  append_padded(out, rest / 3600, 2);
  out.push_back(':');
  append_padded(out, rest % 3600 / 60, 2);
  out.push_back(':');
  append_padded(out, rest % 60, 2);
  if (micros != 0) {
    out.push_back('.');
    append_padded(out, micros, 6);
  }
}

std::string format_rfc5322_date(Instant instant) {
  const auto day_point = floor<days>(instant);
  const year_month_day date{day_point};
  const weekday wd{day_point};
  const hh_mm_ss<Micros> time{instant - day_point};
  char buffer[64];
  const int n =
      std::snprintf(buffer, sizeof buffer, "%s, %02u %s %04d %02ld:%02ld:%02ld +0000", weekday_name(wd),
                    static_cast<unsigned>(date.day()), month_name(date.month()),
                    static_cast<int>(date.year()), static_cast<long>(time.hours().count()),
                    static_cast<long>(time.minutes().count()), static_cast<long>(time.seconds().count()));
  return std::string(buffer, n);
}

std::string describe_slot(Instant begin, Micros duration) {
  const auto day_point = floor<days>(begin);
  const year_month_day date{day_point};
  const weekday wd{day_point};
  const hh_mm_ss<Micros> time{begin - day_point};
  char buffer[96];
  int n = std::snprintf(buffer, sizeof buffer, "%s %u %s %d, %02ld:%02ld UTC", weekday_name(wd),
                        static_cast<unsigned>(date.day()), month_name(date.month()),
                        static_cast<int>(date.year()), static_cast<long>(time.hours().count()),
                        static_cast<long>(time.minutes().count()));
  std::string out(buffer, n);
  const long long minutes_total = duration_cast<minutes>(duration).count();
  out += " for ";
  if (minutes_total >= 60 && minutes_total % 60 == 0) {
    out += std::to_string(minutes_total / 60) + (minutes_total == 60 ? " hour" : " hours");
  } else if (minutes_total >= 60) {
    out += std::to_string(minutes_total / 60) + " h " + std::to_string(minutes_total % 60) + " min";
  } else if (minutes_total > 0) {
    out += std::to_string(minutes_total) + " min";
  } else {
    out += format_duration(duration);
  }
  out += " (" + format_instant(begin) + ", " + format_duration(duration) + ")";
  return out;
}

}  // namespace calndro
