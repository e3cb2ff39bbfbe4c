#include <gtest/gtest.h>

#include "notify/outbox.h"
#include "unit/notify/sample_mail.h"

namespace calndro::notify {
namespace {

TEST(MailContent, RoundTripsWithoutAToken) {
  MailRequest request = samples::mail_request();
  request.title = "Caf\xc3\xa9\r\nBcc: x@y.z";
  request.invitation = true;
  request.slots.push_back({Instant(Micros(-5)), Micros(1)});
  const std::string json = encode_mail_content(request);
  EXPECT_EQ(json.find('\r'), std::string::npos);
  const auto back = decode_mail_content(7, json);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->event_id, 7);
  EXPECT_EQ(back->title, "Caf\xc3\xa9  Bcc: x@y.z");
  EXPECT_EQ(back->sender, "you@here.net");
  EXPECT_TRUE(back->invitation);
  ASSERT_EQ(back->slots.size(), 2u);
  EXPECT_EQ(back->slots[0].begin, request.slots[0].begin);
  EXPECT_EQ(back->slots[0].duration, request.slots[0].duration);
  EXPECT_EQ(back->slots[1].begin, request.slots[1].begin);
  // The same text as composing from the request itself.
  MailSettings settings;
  EXPECT_EQ(compose_mail(settings, *back, "t", Instant()).body,
            compose_mail(settings, request, "t", Instant()).body);
  EXPECT_EQ(compose_subject(settings, *back), compose_mail(settings, request, "t", Instant()).subject);
}

// A row queued by an older release holds the caller's link base: the mail
// is composed with the configured one all the same.
TEST(MailContent, AnOlderRowsLinkBaseIsIgnored) {
  const auto back = decode_mail_content(
      7, R"({"invitation":false,"link_base":"http://evil.example","sender":"you@here.net","slots":[],)"
         R"("title":"cybes"})");
  ASSERT_TRUE(back.has_value());
  MailSettings settings;
  settings.public_base_url = "https://cal.example.org";
  const std::string body = compose_mail(settings, *back, "t", Instant()).body;
  EXPECT_NE(body.find("https://cal.example.org/7/?et=t"), std::string::npos) << body;
  EXPECT_EQ(body.find("evil"), std::string::npos) << body;
}

TEST(MailContent, UnreadableContentIsNullopt) {
  EXPECT_FALSE(decode_mail_content(1, "").has_value());
  EXPECT_FALSE(decode_mail_content(1, "[]").has_value());
  EXPECT_FALSE(decode_mail_content(1, "{\"title\": 3}").has_value());
  EXPECT_FALSE(decode_mail_content(1, "{not json").has_value());
}

}  // namespace
}  // namespace calndro::notify
