#pragma once

#include <cstddef>

// The sizes SPEC §7 promises, in one place: the gateway, the event service
// and the notification service check the same numbers.
namespace calndro::limits {

inline constexpr int kMaxSlots = 30;
inline constexpr int kMaxParties = 100;
inline constexpr std::size_t kMaxTitleLength = 256;  // characters (code points)

// An idempotency key (Idempotency-Key, request_id): visible ASCII characters.
inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// Lists (GET /, the audit log, the mail outbox): `limit` / page_size.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
// An opaque `after` / page_token longer than this is refused unread.
inline constexpr std::size_t kMaxPageTokenLength = 1024;

}  // namespace calndro::limits
