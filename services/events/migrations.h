#pragma once

#include <vector>

#include "common/db/migrations.h"

namespace calndro::events {

// The schema `events`, from services/events/migrations/*.sql (embedded at
// build time by cmake/EmbedMigrations.cmake).
const std::vector<calndro::Migration>& migrations();

inline constexpr const char* kSchema = "events";

}  // namespace calndro::events
