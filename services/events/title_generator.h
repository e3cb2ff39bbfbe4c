#pragma once

#include <string>

#include "common/crypto/crypto.h"

namespace calndro::events {

// A short pronounceable word ("cybes", "tokala") for events proposed
// without a title: easy to say on the phone, easy to spot in a mail subject.
std::string generate_title(RandomSource& random);

}  // namespace calndro::events
