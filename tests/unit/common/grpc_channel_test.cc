#include "common/grpc/grpc_channel.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace calndro {
namespace {

// Sets (or unsets, for nullptr) the TLS variables for the test's duration.
class TlsEnv {
 public:
  TlsEnv(const char* cert, const char* key, const char* ca) {
    set("CALNDRO_GRPC_TLS_CERT", cert);
    set("CALNDRO_GRPC_TLS_KEY", key);
    set("CALNDRO_GRPC_TLS_CA", ca);
    set("CALNDRO_GRPC_TLS_SERVER_NAME", nullptr);
  }
  ~TlsEnv() {
    for (const char* name : {"CALNDRO_GRPC_TLS_CERT", "CALNDRO_GRPC_TLS_KEY", "CALNDRO_GRPC_TLS_CA",
                             "CALNDRO_GRPC_TLS_SERVER_NAME"}) {
      ::unsetenv(name);
    }
  }

 private:
  static void set(const char* name, const char* value) {
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
};

std::string write_temp(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(path) << content;
  return path.string();
}

const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string kKeyPem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

std::string tls_error(const char* cert, const char* key, const char* ca) {
  TlsEnv env(cert, key, ca);
  try {
    (void)read_grpc_tls();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(GrpcTls, OffWithoutVariables) {
  TlsEnv env(nullptr, nullptr, nullptr);
  const GrpcTls tls = read_grpc_tls();
  EXPECT_FALSE(tls.enabled());
  EXPECT_NO_THROW((void)server_credentials(tls));
}

TEST(GrpcTls, ReadsPemFiles) {
  const std::string cert = write_temp("calndro-cert", kCertPem);
  const std::string key = write_temp("calndro-key", kKeyPem);
  {
    TlsEnv env(cert.c_str(), key.c_str(), cert.c_str());
    const GrpcTls tls = read_grpc_tls();
    EXPECT_TRUE(tls.enabled());
    EXPECT_EQ(tls.cert_chain, kCertPem);
    EXPECT_EQ(tls.private_key, kKeyPem);
    EXPECT_EQ(tls.ca, kCertPem);
  }
  {
    // A client that only verifies servers (no certificate of its own) cannot serve.
    TlsEnv env(nullptr, nullptr, cert.c_str());
    const GrpcTls tls = read_grpc_tls();
    EXPECT_TRUE(tls.enabled());
    EXPECT_THROW((void)server_credentials(tls), std::runtime_error);
  }
  std::filesystem::remove(cert);
  std::filesystem::remove(key);
}

TEST(GrpcTls, AListOfAddressesNeedsAServerName) {
  GrpcTls tls;
  EXPECT_NO_THROW((void)make_balanced_channel("ipv4:127.0.0.1:1,127.0.0.1:2", tls));
  tls.ca = kCertPem;
  EXPECT_NO_THROW((void)make_balanced_channel("127.0.0.1:1", tls));
  EXPECT_NO_THROW((void)make_balanced_channel("dns:///events:50051", tls));
  try {
    (void)make_balanced_channel("ipv4:127.0.0.1:1,127.0.0.1:2", tls);
    FAIL() << "a list of addresses under TLS was accepted without a server name";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("CALNDRO_GRPC_TLS_SERVER_NAME"), std::string::npos);
  }
  tls.server_name = "calndro-internal";
  EXPECT_NO_THROW((void)make_balanced_channel("ipv4:127.0.0.1:1,127.0.0.1:2", tls));
}

TEST(GrpcTls, BadOrMissingFilesFailNamingTheVariable) {
  const std::string cert = write_temp("calndro-cert", kCertPem);
  const std::string key = write_temp("calndro-key", kKeyPem);
  EXPECT_NE(tls_error("/nonexistent/cert.pem", key.c_str(), nullptr).find("CALNDRO_GRPC_TLS_CERT"),
            std::string::npos);
  EXPECT_NE(tls_error(cert.c_str(), "/nonexistent/key.pem", nullptr).find("CALNDRO_GRPC_TLS_KEY"),
            std::string::npos);
  EXPECT_NE(tls_error(cert.c_str(), cert.c_str(), nullptr).find("CALNDRO_GRPC_TLS_KEY"), std::string::npos);
  EXPECT_NE(tls_error(nullptr, nullptr, key.c_str()).find("CALNDRO_GRPC_TLS_CA"), std::string::npos);
  EXPECT_NE(tls_error(cert.c_str(), nullptr, nullptr).find("go together"), std::string::npos);
  std::filesystem::remove(cert);
  std::filesystem::remove(key);
}

}  // namespace
}  // namespace calndro
