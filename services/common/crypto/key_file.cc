#include "common/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/crypto/crypto.h"

namespace calndro {
namespace {

// Writes `size` fresh random bytes to `path` unless the file exists (O_EXCL:
// two replicas starting together keep one key).
absl::Status create_key_file(const std::filesystem::path& path, std::size_t size, std::string_view what) {
  std::string key(size, '\0');
  randombytes_buf(key.data(), key.size());
  std::string line = to_base64(bytes_of(key), key.size()) + "\n";
  sodium_memzero(key.data(), key.size());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    sodium_memzero(line.data(), line.size());
    if (errno == EEXIST) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError("cannot create " + std::string(what) + " " + path.string() + ": " +
                                         std::strerror(errno));
  }
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (!written || !synced) {
    return absl::FailedPreconditionError("cannot write " + std::string(what) + " " + path.string());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> read_key_file(const std::filesystem::path& path, std::size_t size,
                                          MissingKey missing, std::string_view what) {
  if (missing == MissingKey::kCreate) {
    if (absl::Status created = create_key_file(path, size, what); !created.ok()) {
      return created;
    }
  }
  std::ifstream file(path);
  if (!file) {
    return absl::FailedPreconditionError("cannot read " + std::string(what) + " " + path.string());
  }
  std::stringstream text;
  text << file.rdbuf();
  std::string line = text.str();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  auto key = from_base64(line);
  sodium_memzero(line.data(), line.size());
  if (!key || key->size() != size) {
    return absl::InvalidArgumentError(path.string() + ": " + std::string(what) + " is not the base64 of " +
                                      std::to_string(size) + " bytes");
  }
  return *std::move(key);
}

}  // namespace calndro
