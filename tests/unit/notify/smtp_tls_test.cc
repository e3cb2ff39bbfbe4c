#include <gtest/gtest.h>

#include "notify/smtp_mailer.h"

namespace calndro::notify {
namespace {

TEST(SmtpTlsPolicy, SmtpsIsTlsFromTheStart) {
  EXPECT_EQ(smtp_tls_policy("smtps://mail.example.org:465"), SmtpTls::kImplicit);
  EXPECT_EQ(smtp_tls_policy("SMTPS://127.0.0.1"), SmtpTls::kImplicit);
}

TEST(SmtpTlsPolicy, StartTlsIsRequiredOffTheLoopback) {
  for (const char* url :
       {"smtp://mail.example.org:587", "smtp://user:pw@mail.example.org", "smtp://10.0.0.7:25",
        "smtp://128.0.0.1", "smtp://[2001:db8::1]:25", "smtp://localhost.evil.example",
        "smtp://127.0.0.1.evil.example", "smtp://evil.example#@127.0.0.1", "smtp://runsc", "smtp://[::1",
        "smtp://", "mail.example.org"}) {
    EXPECT_EQ(smtp_tls_policy(url), SmtpTls::kRequired) << url;
  }
}

TEST(SmtpTlsPolicy, TheLoopbackMayGoWithoutTls) {
  for (const char* url : {"smtp://127.0.0.1:1025", "smtp://127.8.9.10", "smtp://localhost:25",
                          "smtp://LocalHost", "smtp://[::1]:25", "smtp://u:p@127.0.0.1:25/"}) {
    EXPECT_EQ(smtp_tls_policy(url), SmtpTls::kOpportunistic) << url;
  }
}

TEST(SmtpTlsPolicy, NamedMailCatcherMayGoWithoutTls) {
  const std::vector<std::string> catcher{"mailpit"};
  EXPECT_EQ(smtp_tls_policy("smtp://mailpit:1025", catcher), SmtpTls::kOpportunistic);
  EXPECT_EQ(smtp_tls_policy("smtp://MailPit:1025", catcher), SmtpTls::kOpportunistic);
  EXPECT_EQ(smtp_tls_policy("smtp://mailpit.evil.example:1025", catcher), SmtpTls::kRequired);
  EXPECT_EQ(smtp_tls_policy("smtp://mailpit:1025"), SmtpTls::kRequired);
}

TEST(SmtpTlsPolicy, PlaintextHostsAreNamesOnly) {
  EXPECT_EQ(parse_plaintext_hosts(" MailPit , ,relay.internal"),
            (std::vector<std::string>{"mailpit", "relay.internal"}));
  EXPECT_TRUE(parse_plaintext_hosts("").empty());
  EXPECT_THROW(parse_plaintext_hosts("smtp://mailpit"), std::runtime_error);
  EXPECT_THROW(parse_plaintext_hosts("mailpit:1025"), std::runtime_error);
}

}  // namespace
}  // namespace calndro::notify
