#include "support/calendar.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace calndro::testing {
namespace {

// Debian's interpreter on purpose: python3-icalendar is a Debian package, and
// a PATH python (pyenv, venv) may not see it.
constexpr const char* kPython = "/usr/bin/python3";

nlohmann::json run_summary(const std::string& mode, const std::string& content) {
  std::string path = "/tmp/calndro-calendar-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) {
    throw std::runtime_error("calendar summary: cannot make a temporary file");
  }
  close(fd);
  std::ofstream(path, std::ios::binary) << content;
  const std::string command = std::string(kPython) + " " + CALNDRO_SOURCE_DIR +
                              "/tests/support/calendar_summary.py " + mode + " " + path + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    std::remove(path.c_str());
    throw std::runtime_error("calendar summary: cannot run " + command);
  }
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  std::remove(path.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("calendar summary failed: " + output);
  }
  return nlohmann::json::parse(output);
}

}  // namespace

nlohmann::json summarize_calendar_mail(const std::string& raw_mail) {
  return run_summary("--mail", raw_mail);
}

nlohmann::json summarize_ics(const std::string& ics) {
  return run_summary("--ics", ics);
}

}  // namespace calndro::testing
