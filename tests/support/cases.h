// Table-driven checks for the unit tests that probe a parser or a predicate
// with many literal inputs: a failure names the input that caused it.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

namespace calndro::testing {

// Expects `f(input) == want` for every {input, want}.
template <typename Want = std::string, typename F>
void expect_maps(F&& f, std::initializer_list<std::pair<std::string, std::type_identity_t<Want>>> cases) {
  for (const auto& [input, want] : cases) {
    EXPECT_EQ(f(input), want) << "input: " << input;
  }
}

// Expects `f(input)` to hold (be true, or hold a value) for every input.
template <typename F>
void expect_all(F&& f, std::initializer_list<std::string> inputs) {
  for (const std::string& input : inputs) {
    EXPECT_TRUE(f(input)) << "input: " << input;
  }
}

// Expects `f(input)` to fail (be false, or empty) for every input.
template <typename F>
void expect_none(F&& f, std::initializer_list<std::string> inputs) {
  for (const std::string& input : inputs) {
    EXPECT_FALSE(f(input)) << "input: " << input;
  }
}

// Expects `text` to contain every one of `parts`.
inline void expect_contains(const std::string& text, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "missing: " << part;
  }
}

// Expects `text` to contain none of `parts`.
inline void expect_lacks(const std::string& text, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) {
    EXPECT_EQ(text.find(part), std::string::npos) << "present: " << part;
  }
}

}  // namespace calndro::testing
