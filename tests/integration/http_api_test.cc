// SPEC-driven tests of the REST API through the gateway (everything
// but notify and email tokens). Expectations come from ../shared/SPEC.md and,
// where SPEC is silent, from docs/ARCHITECTURE.md's recorded decisions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "support/http_call.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;
using ::testing::HasSubstr;

namespace {

struct Auth {
  std::string authorization;  // "" = none
  static Auth none() { return {}; }
  static Auth basic(const std::string& user, const std::string& pwd) { return {basic_auth(user, pwd)}; }
  static Auth token(const std::string& key) { return {"Token " + key}; }
  static Auth of(const User& u) { return basic(u.email, u.password); }
};

using Resp = HttpReply;

// A few fixed slots in the future.
json three_slots() {
  return json::array({slot_json("2030-01-02T10:00:00Z", "01:00"), slot_json("2030-01-03T10:00:00Z", "01:00"),
                      slot_json("2030-01-04T10:00:00Z", "00:30")});
}

// A syntactically valid email of exactly `length` characters (>= 70):
// a 64-character local part and a domain of labels of at most 63.
std::string email_of_length(size_t length) {
  std::string local(64, 'y');
  size_t domain_len = length - 65;  // minus local and '@'
  std::string domain;
  char label = 'a';
  while (domain_len > 4) {  // keep room for ".com"
    size_t n = std::min<size_t>(63, domain_len - 4);
    if (domain_len - 4 - n == 1) {
      n -= 1;  // never leave a lone 1-char remainder that needs a dot
    }
    domain += std::string(n, label++) + ".";
    domain_len -= n + 1;
  }
  domain.pop_back();
  std::string out = local + "@" + domain;
  out += std::string(".com").substr(0, length - out.size());
  return out;
}

// The i-th of many distinct, valid slots.
json nth_slot(int i, const std::string& month = "02") {
  char begin[64];
  std::snprintf(begin, sizeof begin, "2030-%s-%02dT%02d:15:00Z", month.c_str(), 1 + i / 24, i % 24);
  return slot_json(begin, "01:00");
}

const std::regex kWhen(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$)");

class HttpApi : public StackTest {
 protected:
  struct Users {
    User staff, alice, bob, carol_inactive, dave_named;
  };

  void prepare() override {
    static std::optional<Users> users;
    static std::string error;
    if (!users && error.empty()) {
      try {
        Users u;
        u.staff = stack().create_user(unique_email("staff"), "staff-Pass-1", true);
        u.alice = stack().create_user(unique_email("alice"), "alice-Pass-1");
        u.bob = stack().create_user(unique_email("bob"), "bob-Pass-1");
        u.carol_inactive = stack().create_user(unique_email("carol"), "carol-Pass-1", false, true);
        std::string name = "dave" + unique_email("").substr(1, 8);
        name.erase(std::remove(name.begin(), name.end(), '.'), name.end());
        u.dave_named = stack().create_user(unique_email("dave"), "dave-Pass-1", false, false, name);
        users = u;
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    if (!users) {
      GTEST_FAIL() << "cannot create the test users: " << error;
    }
    u_ = &*users;
  }

  const Users& u() const { return *u_; }

  Resp call(const std::string& method, const std::string& path, const Auth& auth = {},
            const std::optional<std::string>& body = std::nullopt, httplib::Headers extra = {}) {
    return http_call(stack(), {method, path, auth.authorization, body, std::move(extra)});
  }
  Resp call(const std::string& method, const std::string& path, const Auth& auth, const json& body,
            httplib::Headers extra = {}) {
    return call(method, path, auth, std::optional<std::string>(body.dump()), std::move(extra));
  }

  // POST / expecting 201; returns the event.
  json create(const Auth& auth, const json& body) {
    Resp r = call("POST", "/", auth, body);
    EXPECT_EQ(r.status, 201) << r << " for body " << body.dump();
    return r.status == 201 ? r.j() : json::object();
  }
  // An event of alice's with bob as a non-party and a fresh extra party.
  json alice_event(const json& slots = three_slots()) {
    return create(
        Auth::of(u().alice),
        {{"title", "planning"}, {"parties", {u().alice.email, unique_email("guest")}}, {"slots", slots}});
  }
  std::string path_of(const json& ev) { return "/" + std::to_string(ev.value("id", 0LL)) + "/"; }

  // The log as staff (reading the log is not logged).
  json log_entries(const json& ev) {
    Resp r = call("GET", path_of(ev) + "log/?limit=1000", Auth::of(u().staff));
    EXPECT_EQ(r.status, 200) << r;
    json j = r.status == 200 ? r.j() : json::object();
    return j.contains("entries") ? j["entries"] : json::array();
  }
  // The event as staff; this logs a VIEW.
  json detail(const json& ev) {
    Resp r = call("GET", path_of(ev), Auth::of(u().staff));
    EXPECT_EQ(r.status, 200) << r;
    return r.status == 200 ? r.j() : json::object();
  }
  // Checks that a failed call left the event and its log as they were.
  void expect_unchanged(const json& ev, size_t log_size) {
    EXPECT_EQ(log_entries(ev).size(), log_size) << "a failed call wrote a log entry";
    json now = detail(ev);
    EXPECT_EQ(now, ev) << "a failed call changed the event";
  }

  // Every page of a listing, following Link: rel="next".
  json list_all(const Auth& auth, const std::string& first = "/") {
    json all = json::array();
    std::string path = first;
    for (int page = 0; page < 100 && !path.empty(); ++page) {
      Resp r = call("GET", path, auth);
      EXPECT_EQ(r.status, 200) << r;
      if (r.status != 200) {
        break;
      }
      for (auto& e : r.j()) {
        all.push_back(e);
      }
      path = next_link(r);
    }
    return all;
  }
  // The path+query of Link rel="next", "" when absent.
  std::string next_link(const Resp& r) {
    std::string link = r.header("Link");
    std::smatch m;
    if (!std::regex_search(link, m, std::regex(R"re(<([^>]*)>\s*;\s*rel="?next"?)re"))) {
      return "";
    }
    std::string url = m[1];
    auto scheme = url.find("://");
    if (scheme != std::string::npos) {
      auto slash = url.find('/', scheme + 3);
      url = slash == std::string::npos ? "/" : url.substr(slash);
    }
    return url;
  }

  static bool has_id(const json& list, const json& ev) {
    for (const auto& e : list) {
      if (e.value("id", -1LL) == ev.value("id", -2LL)) {
        return true;
      }
    }
    return false;
  }

  // A 400 whose body maps `field` to a non-empty list of messages.
  void expect_field_error(const Resp& r, const std::string& field, const std::string& what) {
    EXPECT_EQ(r.status, 400) << what << ": " << r;
    if (r.status != 400) {
      return;
    }
    json j = r.j();
    ASSERT_TRUE(j.is_object()) << what << ": " << r;
    ASSERT_TRUE(j.contains(field)) << what << ": body does not name '" << field << "': " << r;
    ASSERT_TRUE(j[field].is_array()) << what << ": " << r;
    EXPECT_FALSE(j[field].empty()) << what << ": " << r;
    for (const auto& m : j[field]) {
      EXPECT_TRUE(m.is_string() && !m.get<std::string>().empty()) << what << ": " << r;
    }
  }
  // `auth` has no event (a create refused as it should be leaves none).
  void expect_no_events(const Auth& auth) {
    Resp list = call("GET", "/", auth);
    ASSERT_EQ(list.status, 200) << list;
    EXPECT_EQ(list.j(), json::array()) << "a rejected create left an event behind";
  }
  // Each of `bodies` ({body, what it shows}) created as `auth` is 400
  // naming `field`, and none leaves an event behind.
  void expect_creates_rejected(const Auth& auth, const std::string& field,
                               const std::vector<std::pair<json, std::string>>& bodies) {
    for (const auto& [body, what] : bodies) {
      expect_field_error(call("POST", "/", auth, body), field, what);
    }
    expect_no_events(auth);
  }
  void expect_401(const Resp& r, const std::string& what) {
    EXPECT_EQ(r.status, 401) << what << ": " << r;
    EXPECT_EQ(r.header("WWW-Authenticate"), "Basic realm=\"calndro\"") << what;
    if (r.status == 401) {
      json j = r.j();
      EXPECT_TRUE(j.is_object() && j.contains("detail")) << what << ": " << r;
    }
  }

  const Users* u_ = nullptr;
};

// ---------- /openapi ----------

TEST_F(HttpApi, OpenApiDocumentDescribesThisApi) {
  Resp r = call("GET", "/openapi");
  ASSERT_EQ(r.status, 200) << r;
  json doc = r.j();
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.contains("openapi")) << r.body.substr(0, 300);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  ASSERT_TRUE(doc.contains("paths") && doc["paths"].is_object());
  ASSERT_TRUE(doc.contains("info") && doc["info"].is_object());
  const json& paths = doc["paths"];
  EXPECT_TRUE(paths.contains("/")) << paths.dump();
  EXPECT_TRUE(paths.contains("/api-token-auth/")) << paths.dump();
  std::set<std::string> wanted_suffixes = {"}/", "}/log/", "}/notify/"};
  for (const auto& suffix : wanted_suffixes) {
    bool found = false;
    for (auto it = paths.begin(); it != paths.end(); ++it) {
      const std::string& p = it.key();
      if (p.size() > suffix.size() && p.rfind('{', 1) == 1 &&
          p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << "no path /{id}" << suffix << " in " << paths.dump();
  }
  EXPECT_TRUE(paths["/"].contains("get") && paths["/"].contains("post"));
  EXPECT_EQ(call("GET", "/openapi/").status, 404);
}

// ---------- create ----------

TEST_F(HttpApi, CreateReturnsTheEventInSpecShape) {
  std::string guest = unique_email("guest");
  Resp r = call("POST", "/", Auth::of(u().alice),
                json{{"title", "cybes"},
                     {"parties", {u().alice.email, guest}},
                     {"slots", {slot_json("2022-11-01T01:11:22.02", "00:10")}}});
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_THAT(r.header("Content-Type"), HasSubstr("application/json"));
  json ev = r.j();
  ASSERT_TRUE(ev["id"].is_number_integer()) << r;
  std::string id = std::to_string(ev["id"].get<long long>());
  std::string base = stack().base_url();
  EXPECT_EQ(ev["url"], base + "/" + id + "/");
  EXPECT_EQ(ev["log_url"], base + "/" + id + "/log/");
  EXPECT_EQ(ev["notify_url"], base + "/" + id + "/notify/");
  EXPECT_EQ(ev["title"], "cybes");
  EXPECT_EQ(ev["parties"], json({u().alice.email, guest}));
  EXPECT_EQ(ev["slots"], json::array({slot_json("2022-11-01T01:11:22.020000Z", "00:10:00")}));
  // Detail returns the same representation.
  Resp d = call("GET", "/" + id + "/", Auth::of(u().alice));
  ASSERT_EQ(d.status, 200) << d;
  EXPECT_EQ(d.j(), ev);
}

TEST_F(HttpApi, UrlsFollowTheRequestHostWhenAllowed) {
  Resp r = call("POST", "/", Auth::of(u().alice),
                json{{"parties", {u().alice.email}}, {"slots", json::array()}}, {{"Host", "localhost:8123"}});
  ASSERT_EQ(r.status, 201) << r;
  json ev = r.j();
  std::string id = std::to_string(ev["id"].get<long long>());
  EXPECT_EQ(ev["url"], "http://localhost:8123/" + id + "/");
  EXPECT_EQ(ev["log_url"], "http://localhost:8123/" + id + "/log/");
  // Not in CALNDRO_ALLOWED_HOSTS (default: localhost, 127.0.0.1, [::1]).
  Resp foreign =
      call("GET", "/" + id + "/", Auth::of(u().alice), std::nullopt, {{"Host", "calndro.example.org:8123"}});
  EXPECT_EQ(foreign.status, 400) << foreign;
}

TEST_F(HttpApi, MissingOrEmptyTitleIsGenerated) {
  for (const json& body : {json{{"parties", {u().alice.email}}, {"slots", json::array()}},
                           json{{"title", ""}, {"parties", {u().alice.email}}, {"slots", json::array()}}}) {
    json ev = create(Auth::of(u().alice), body);
    ASSERT_TRUE(ev.contains("title")) << ev;
    std::string title = ev["title"];
    EXPECT_FALSE(title.empty());
    EXPECT_TRUE(std::regex_match(title, std::regex("[A-Za-z][A-Za-z -]*"))) << title;
  }
}

TEST_F(HttpApi, EmptySlotsAreAllowedButSlotsAreRequired) {
  json ev = create(Auth::of(u().alice), {{"parties", {u().alice.email}}, {"slots", json::array()}});
  EXPECT_EQ(ev["slots"], json::array());

  User fresh = stack().create_user(unique_email("noslots"), "noslots-Pass-1");
  Resp r = call("POST", "/", Auth::of(fresh), json{{"parties", {fresh.email}}, {"title", "t"}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.j(), json::parse(R"({"slots": ["This field is required."]})")) << r;
  Resp list = call("GET", "/", Auth::of(fresh));
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.j(), json::array()) << "a create without slots left an event behind";
}

TEST_F(HttpApi, UnknownPartiesBecomeInactiveUsers) {
  std::string guest = unique_email("newcomer");
  json ev = create(Auth::of(u().alice), {{"parties", {u().alice.email, guest}}, {"slots", three_slots()}});
  CommandResult list = stack().admin({"user", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.output();
  EXPECT_THAT(list.output(), HasSubstr(guest));
  // It cannot log in (it has no password)...
  expect_401(call("GET", "/", Auth::basic(guest, "")), "inactive user without password");
  // ...until an admin gives it a password and activates it.
  CommandResult sp = stack().admin({"user", "set-password", guest, "--password-stdin"}, "new-Pass-9\n");
  ASSERT_EQ(sp.exit_code, 0) << sp.output();
  CommandResult act = stack().admin({"user", "activate", guest});
  ASSERT_EQ(act.exit_code, 0) << act.output();
  Resp r = call("GET", "/", Auth::basic(guest, "new-Pass-9"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(has_id(r.j(), ev));
  EXPECT_EQ(call("GET", path_of(ev), Auth::basic(guest, "new-Pass-9")).status, 200);
}

TEST_F(HttpApi, DuplicatePartiesAndSlotsAreFolded) {
  std::string guest = unique_email("dup");
  json ev = create(Auth::of(u().alice), {{"parties", {u().alice.email, guest, u().alice.email, guest}},
                                         {"slots",
                                          {slot_json("2022-11-01T01:11:22.02", "00:10"),
                                           slot_json("2022-11-01T01:11:22.020000Z", "00:10:00"),
                                           slot_json("2022-11-01T03:11:22.02+02:00", "PT10M"),
                                           slot_json("2022-11-01T03:11:22.020+0200", "0 00:10:00"),
                                           slot_json("2022-11-01T03:11:22.020000+02", "00:10:00.000000")}}});
  EXPECT_EQ(ev["parties"], json({u().alice.email, guest}));
  EXPECT_EQ(ev["slots"], json::array({slot_json("2022-11-01T01:11:22.020000Z", "00:10:00")}));
  json entries = log_entries(ev);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["slots"], ev["slots"]);
}

TEST_F(HttpApi, OutputFormatsAndOrderFollowSpec) {
  json ev = create(Auth::of(u().alice),
                   {{"parties", {u().alice.email}},
                    {"slots",
                     {slot_json("2021-03-11T15:34:00+01:00", "PT1H30M"),  // 14:34Z
                      slot_json("2021-03-11T14:34:00Z", "26:00"),         // same begin, longer
                      slot_json("2021-03-11T14:34:00", "1 02:00:00"),     // duplicate of the one above
                      slot_json("2021-03-10T23:59:59.999999-0100", "00:00:01"),
                      slot_json("2021-03-11T14:34:00.5Z", "00:01")}}});
  EXPECT_EQ(ev["slots"], json::array({slot_json("2021-03-11T00:59:59.999999Z", "00:00:01"),
                                      slot_json("2021-03-11T14:34:00Z", "01:30:00"),
                                      slot_json("2021-03-11T14:34:00Z", "1 02:00:00"),
                                      slot_json("2021-03-11T14:34:00.500000Z", "00:01:00")}))
      << ev.dump();
}

// The event service remembers which parties have user rows, to skip making
// them again. If the database loses one under it (here: deleted behind the
// trigger's back), the create still names every party: the statement refuses
// a party without a user row, and the service makes the row and retries.
TEST_F(HttpApi, CreateStillStoresEveryPartyWhenAUserRowVanished) {
  const std::string guest = unique_email("vanishing");
  const json body = {{"parties", {guest}}, {"slots", three_slots()}};
  ASSERT_EQ(call("POST", "/", Auth::of(u().alice), body).status, 201);
  stack().db().exec(
      "ALTER TABLE events.users DISABLE TRIGGER users_no_delete;"
      "DELETE FROM events.users WHERE email = '" +
      guest +
      "';"
      "ALTER TABLE events.users ENABLE TRIGGER users_no_delete");
  ASSERT_EQ(stack().db().scalar("SELECT count(*) FROM events.users WHERE email = '" + guest + "'"), "0");
  Resp again = call("POST", "/", Auth::of(u().alice), body);
  ASSERT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.j()["parties"], json::array({u().alice.email, guest}));
  EXPECT_EQ(stack().db().scalar(
                "SELECT count(*) FROM events.event_parties p JOIN events.users u ON u.id = p.user_id "
                "WHERE p.event_id = " +
                std::to_string(again.j()["id"].get<long long>())),
            "2");
}

TEST_F(HttpApi, CreatorIsAlwaysAParty) {
  // docs/ARCHITECTURE.md: the creator is added first when absent from parties.
  std::string guest = unique_email("solo");
  json ev = create(Auth::of(u().bob), {{"parties", {guest}}, {"slots", three_slots()}});
  ASSERT_TRUE(ev.contains("parties"));
  EXPECT_EQ(ev["parties"], json({u().bob.email, guest}));
  EXPECT_EQ(call("GET", path_of(ev), Auth::of(u().bob)).status, 200);
}

// ---------- authentication and authorization, SPEC §2 ----------

TEST_F(HttpApi, UnauthenticatedCallersGet401OnEveryRoute) {
  json ev = alice_event();
  std::string p = path_of(ev);
  json body = {{"parties", {u().alice.email}}, {"slots", three_slots()}};
  json patch = {{"title", "x"}};
  struct Caller {
    std::string what;
    Auth auth;
  };
  std::vector<Caller> callers = {
      {"no credentials", Auth::none()},
      {"wrong password", Auth::basic(u().alice.email, "wrong")},
      {"unknown user", Auth::basic(unique_email("nobody"), "whatever")},
      {"unknown API token", Auth::token("0123456789abcdef0123456789abcdef01234567")},
      {"garbage Authorization", Auth{"Bearer xyz"}},
      {"broken Basic", Auth{"Basic !!!not-base64"}},
      {"inactive user with password", Auth::of(u().carol_inactive)},
  };
  size_t before = log_entries(ev).size();
  for (const auto& c : callers) {
    expect_401(call("GET", "/", c.auth), "GET / " + c.what);
    expect_401(call("POST", "/", c.auth, body), "POST / " + c.what);
    expect_401(call("GET", p, c.auth), "GET detail " + c.what);
    expect_401(call("PATCH", p, c.auth, patch), "PATCH " + c.what);
    expect_401(call("DELETE", p, c.auth), "DELETE " + c.what);
    expect_401(call("GET", p + "log/", c.auth), "GET log " + c.what);
    expect_401(
        call("POST", p + "notify/", c.auth, json{{"parties", {u().alice.email}}, {"slots", three_slots()}}),
        "POST notify " + c.what);
  }
  expect_unchanged(ev, before);
}

TEST_F(HttpApi, InactivePartyCannotUseItsPassword) {
  json ev = create(Auth::of(u().alice),
                   {{"parties", {u().alice.email, u().carol_inactive.email}}, {"slots", three_slots()}});
  expect_401(call("GET", path_of(ev), Auth::of(u().carol_inactive)), "inactive party detail");
  expect_401(call("GET", path_of(ev) + "log/", Auth::of(u().carol_inactive)), "inactive party log");
}

TEST_F(HttpApi, StaffMayDoEverything) {
  Auth staff = Auth::of(u().staff);
  json ev = alice_event();
  std::string p = path_of(ev);
  EXPECT_TRUE(has_id(list_all(staff), ev)) << "staff sees all events";
  EXPECT_EQ(call("GET", p, staff).status, 200);
  Resp patched = call("PATCH", p, staff, json{{"title", "by staff"}});
  EXPECT_EQ(patched.status, 202) << patched;
  EXPECT_EQ(patched.j().value("title", ""), "by staff");
  EXPECT_EQ(call("GET", p + "log/", staff).status, 200);
  Resp created = call("POST", "/", staff, json{{"parties", {u().staff.email}}, {"slots", three_slots()}});
  EXPECT_EQ(created.status, 201) << created;
  Resp del = call("DELETE", p, staff);
  EXPECT_EQ(del.status, 204) << del;
  EXPECT_TRUE(del.body.empty()) << del;
}

TEST_F(HttpApi, RegisteredPartyRights) {
  Auth alice = Auth::of(u().alice);
  json ev = alice_event();
  std::string p = path_of(ev);
  EXPECT_TRUE(has_id(list_all(alice), ev));
  EXPECT_EQ(call("GET", p, alice).status, 200);
  Resp patched = call("PATCH", p, alice, json{{"slots", json::array({three_slots()[0]})}});
  EXPECT_EQ(patched.status, 202) << patched;
  EXPECT_EQ(call("GET", p + "log/", alice).status, 200);
  size_t before = log_entries(ev).size();
  json current = detail(ev);
  ++before;  // the VIEW just logged
  Resp del = call("DELETE", p, alice);
  EXPECT_EQ(del.status, 403) << del;
  EXPECT_TRUE(del.j().contains("detail")) << del;
  expect_unchanged(current, before);
}

TEST_F(HttpApi, RegisteredNonPartyRights) {
  User zed = stack().create_user(unique_email("zed"), "zed-Pass-1");
  Auth z = Auth::of(zed);
  json ev = alice_event();
  std::string p = path_of(ev);
  Resp list = call("GET", "/", z);
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.j(), json::array()) << "a user with no events lists none";
  EXPECT_FALSE(has_id(list_all(Auth::of(u().bob)), ev));
  size_t before = log_entries(ev).size();
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::optional<std::string>>>{
           {"GET", p, std::nullopt},
           {"PATCH", p, json{{"title", "hijack"}, {"slots", json::array()}}.dump()},
           {"DELETE", p, std::nullopt},
           {"GET", p + "log/", std::nullopt},
           {"POST", p + "notify/", json{{"parties", {u().alice.email}}, {"slots", three_slots()}}.dump()}}) {
    Resp r = call(method, path, z, body);
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r;
    if (r.status == 403) {
      EXPECT_TRUE(r.j().contains("detail")) << r;
    }
  }
  expect_unchanged(ev, before);
  // A non-party may still create events of its own.
  EXPECT_EQ(call("POST", "/", z, json{{"parties", {zed.email}}, {"slots", three_slots()}}).status, 201);
}

TEST_F(HttpApi, BasicAuthWithUsernameOrEmailAndTokenAuth) {
  const User& d = u().dave_named;
  json ev = create(Auth::basic(d.username, d.password), {{"parties", {d.email}}, {"slots", three_slots()}});
  EXPECT_EQ(call("GET", path_of(ev), Auth::basic(d.email, d.password)).status, 200);
  EXPECT_EQ(call("GET", path_of(ev), Auth::basic(d.username, d.password)).status, 200);
  expect_401(call("GET", path_of(ev), Auth::basic(d.username, "nope")), "username, wrong password");

  for (const std::string& login : {d.username, d.email}) {
    Resp t =
        call("POST", "/api-token-auth/", Auth::none(), json{{"username", login}, {"password", d.password}});
    ASSERT_EQ(t.status, 200) << t;
    json tj = t.j();
    ASSERT_TRUE(tj.contains("token") && tj["token"].is_string()) << t;
    std::string key = tj["token"];
    EXPECT_FALSE(key.empty());
    Auth tok = Auth::token(key);
    Resp l = call("GET", "/", tok);
    ASSERT_EQ(l.status, 200) << l;
    EXPECT_TRUE(has_id(l.j(), ev));
    EXPECT_EQ(call("GET", path_of(ev), tok).status, 200);
    EXPECT_EQ(call("PATCH", path_of(ev), tok, json{{"title", "via token"}}).status, 202);
    EXPECT_EQ(call("DELETE", path_of(ev), tok).status, 403);
    // One wrong character: unknown token.
    key[0] = key[0] == 'a' ? 'b' : 'a';
    expect_401(call("GET", "/", Auth::token(key)), "altered API token");
  }
  // Staff through a token may delete.
  Resp st = call("POST", "/api-token-auth/", Auth::none(),
                 json{{"username", u().staff.email}, {"password", u().staff.password}});
  ASSERT_EQ(st.status, 200) << st;
  EXPECT_EQ(call("DELETE", path_of(ev), Auth::token(st.j()["token"])).status, 204);
}

TEST_F(HttpApi, ApiTokenAuthRejectsBadCredentials) {
  for (const json& body :
       {json{{"username", u().alice.email}, {"password", "wrong"}},
        json{{"username", unique_email("ghost")}, {"password", "x"}},
        json{{"username", u().carol_inactive.email}, {"password", u().carol_inactive.password}}}) {
    Resp r = call("POST", "/api-token-auth/", Auth::none(), body);
    EXPECT_TRUE(r.status == 400 || r.status == 401) << body.dump() << ": " << r;
    EXPECT_EQ(r.body.find("\"token\""), std::string::npos) << r;
  }
  Resp bad = call("POST", "/api-token-auth/", Auth::none(), std::optional<std::string>("{nope"));
  EXPECT_EQ(bad.status, 400) << bad;
  Resp missing = call("POST", "/api-token-auth/", Auth::none(), json{{"username", u().alice.email}});
  EXPECT_EQ(missing.status, 400) << missing;
}

TEST_F(HttpApi, MissingEventIs404ForAnyAuthenticatedCaller) {
  for (const User* user : {&u().staff, &u().alice, &u().bob}) {
    Auth a = Auth::of(*user);
    for (const std::string& p : {std::string("/987654321/"), std::string("/987654321/log/")}) {
      Resp r = call("GET", p, a);
      EXPECT_EQ(r.status, 404) << user->email << " GET " << p << ": " << r;
      if (r.status == 404) {
        EXPECT_TRUE(r.j().contains("detail")) << r;
      }
    }
    EXPECT_EQ(call("PATCH", "/987654321/", a, json{{"title", "x"}}).status, 404);
    EXPECT_EQ(call("DELETE", "/987654321/", a).status, 404);
  }
  expect_401(call("GET", "/987654321/"), "missing event, no credentials");
}

TEST_F(HttpApi, ValidCredentialsWinOverABadEmailToken) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice);
  EXPECT_EQ(call("GET", path_of(ev), alice, std::nullopt,
                 {{"X-Email-Token", "0000000000000000000000000000000000000000"}})
                .status,
            200);
  EXPECT_EQ(call("GET", path_of(ev) + "?et=garbage", alice).status, 200);
  Resp p = call("PATCH", path_of(ev), alice,
                json{{"title", "still me"}, {"et", "ffffffffffffffffffffffffffffffffffffffff"}});
  EXPECT_EQ(p.status, 202) << p;
  EXPECT_EQ(call("GET", "/", alice, std::nullopt, {{"X-Email-Token", "nonsense"}}).status, 200);
  // The effector is the user, not a token.
  json last = log_entries(ev).back();
  EXPECT_EQ(last["effector"], u().alice.email);
  EXPECT_FALSE(last["data"].contains("token")) << last;
}

// ---------- patch ----------

TEST_F(HttpApi, PatchReplacesSlotsAndTitleAndIgnoresParties) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice);
  json narrowed = json::array({three_slots()[2]});
  Resp r = call("PATCH", path_of(ev), alice,
                json{{"slots", narrowed}, {"parties", {unique_email("intruder")}}, {"title", "narrowed"}});
  ASSERT_EQ(r.status, 202) << r;
  json after = r.j();
  EXPECT_EQ(after["parties"], ev["parties"]);
  EXPECT_EQ(after["title"], "narrowed");
  EXPECT_EQ(after["slots"], json::array({slot_json("2030-01-04T10:00:00Z", "00:30:00")}));
  EXPECT_EQ(after["id"], ev["id"]);
  EXPECT_EQ(after["url"], ev["url"]);
  // Extend again, and empty the set entirely.
  Resp ext = call("PATCH", path_of(ev), alice, json{{"slots", three_slots()}});
  ASSERT_EQ(ext.status, 202) << ext;
  EXPECT_EQ(ext.j()["slots"].size(), 3u);
  EXPECT_EQ(ext.j()["title"], "narrowed");
  Resp empty = call("PATCH", path_of(ev), alice, json{{"slots", json::array()}});
  ASSERT_EQ(empty.status, 202) << empty;
  EXPECT_EQ(empty.j()["slots"], json::array());
  EXPECT_EQ(detail(ev)["slots"], json::array());
}

// Concurrent PATCHes of one event, some changing only the title, some only
// the slots: none may undo another's change. In the log (commit order for
// one event), a title-only entry keeps the slots of the entry before it.
TEST_F(HttpApi, ConcurrentPatchesOfOneEventLoseNoChange) {
  json ev = alice_event();
  const json sets = three_slots();
  constexpr int kPatches = 12;
  std::vector<std::thread> patchers;
  std::vector<int> statuses(kPatches, 0);
  for (int i = 0; i < kPatches; ++i) {
    patchers.emplace_back([&, i] {
      const json body = i % 2 == 0 ? json{{"title", "title " + std::to_string(i)}}
                                   : json{{"slots", json::array({sets[i % 3]})}};
      statuses[i] = call("PATCH", path_of(ev), Auth::of(u().alice), body).status;
    });
  }
  for (auto& patcher : patchers) {
    patcher.join();
  }
  for (int i = 0; i < kPatches; ++i) {
    EXPECT_EQ(statuses[i], 202) << "PATCH " << i;
  }
  const json entries = log_entries(ev);
  std::vector<json> updates;
  for (const json& entry : entries) {
    if (entry["occurrence"] == "UPDATE") {
      updates.push_back(entry);
    }
  }
  ASSERT_EQ(updates.size(), static_cast<size_t>(kPatches + 1)) << entries.dump();  // + the creation
  for (size_t i = 1; i < updates.size(); ++i) {
    if (updates[i]["data"].contains("title")) {
      EXPECT_EQ(updates[i]["slots"], updates[i - 1]["slots"])
          << "a title-only PATCH changed the slots: " << entries.dump();
    }
  }
  const json now = detail(ev);
  EXPECT_EQ(now["slots"], updates.back()["slots"]);
  std::string last_title = "planning";
  for (const json& update : updates) {
    if (update["data"].contains("title")) {
      last_title = update["data"]["title"];
    }
  }
  EXPECT_EQ(now["title"], last_title);
}

TEST_F(HttpApi, PatchWithNeitherSlotsNorTitleIs400AndLogsNothing) {
  json ev = alice_event();
  size_t before = log_entries(ev).size();
  for (const json& body :
       {json::object(), json{{"parties", {u().alice.email}}}, json{{"sloths", json::array()}}}) {
    Resp r = call("PATCH", path_of(ev), Auth::of(u().alice), body);
    EXPECT_EQ(r.status, 400) << body.dump() << ": " << r;
  }
  expect_unchanged(ev, before);
}

// ---------- versions and preconditions, SPEC §3 ----------

TEST_F(HttpApi, GetAndPatchAnswerAnETagThatGrowsWithEachChange) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice);
  Resp got = call("GET", path_of(ev), alice);
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.header("ETag"), "\"1\"");
  Resp patched = call("PATCH", path_of(ev), alice, json{{"title", "renamed"}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 202) << patched;
  EXPECT_EQ(patched.header("ETag"), "\"2\"");
  EXPECT_EQ(call("GET", path_of(ev), alice).header("ETag"), "\"2\"") << "a view changes no version";
  Resp any = call("PATCH", path_of(ev), alice, json{{"title", "again"}}, {{"If-Match", "*"}});
  ASSERT_EQ(any.status, 202) << any;
  EXPECT_EQ(any.header("ETag"), "\"3\"");
  Resp without = call("PATCH", path_of(ev), alice, json{{"title", "as before"}});
  EXPECT_EQ(without.status, 202) << "without If-Match a write is unconditional: " << without;
}

TEST_F(HttpApi, AStaleIfMatchIs412WithTheCurrentEventAndChangesNothing) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice), staff = Auth::of(u().staff);
  Resp narrowed = call("PATCH", path_of(ev), alice, json{{"slots", json::array({three_slots()[0]})}});
  ASSERT_EQ(narrowed.status, 202) << narrowed;
  const json current = narrowed.j();
  const size_t log_size = log_entries(ev).size();
  const httplib::Headers stale = {{"If-Match", "\"1\""}};
  std::vector<Resp> refused = {
      call("PATCH", path_of(ev), alice, json{{"slots", json::array({three_slots()[1]})}}, stale),
      call("POST", path_of(ev) + "notify/", alice,
           json{{"parties", {u().alice.email}}, {"slots", json::array({three_slots()[0]})}}, stale),
      call("DELETE", path_of(ev), staff, std::nullopt, stale),
      call("PATCH", path_of(ev), alice, json{{"title", "weak"}}, {{"If-Match", "W/\"2\""}}),
  };
  for (const Resp& r : refused) {
    ASSERT_EQ(r.status, 412) << r;
    EXPECT_TRUE(r.j()["detail"].is_string()) << r;
    EXPECT_EQ(r.j()["event"], current) << r;
    EXPECT_EQ(r.header("ETag"), "\"2\"") << r;
  }
  EXPECT_EQ(log_entries(ev).size(), log_size) << "a refused write wrote a log entry";
  Resp got = call("GET", path_of(ev), alice);
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.j(), current);
  EXPECT_EQ(call("DELETE", path_of(ev), staff, std::nullopt, {{"If-Match", "\"2\""}}).status, 204);
}

TEST_F(HttpApi, AMalformedIfMatchIs400NamingTheHeader) {
  json ev = alice_event();
  const size_t log_size = log_entries(ev).size();
  Resp r = call("PATCH", path_of(ev), Auth::of(u().alice), json{{"title", "x"}}, {{"If-Match", "1"}});
  ASSERT_EQ(r.status, 400) << r;
  EXPECT_NE(r.j()["detail"].get<std::string>().find("If-Match"), std::string::npos) << r;
  expect_unchanged(ev, log_size);
}

// ---------- delete ----------

TEST_F(HttpApi, DeletedEventIs404ButStaffStillReadItsLog) {
  json ev = alice_event();
  Auth staff = Auth::of(u().staff), alice = Auth::of(u().alice);
  ASSERT_EQ(call("DELETE", path_of(ev), staff).status, 204);
  EXPECT_EQ(call("GET", path_of(ev), staff).status, 404);
  EXPECT_EQ(call("GET", path_of(ev), alice).status, 404);
  EXPECT_EQ(call("PATCH", path_of(ev), alice, json{{"title", "zombie"}}).status, 404);
  EXPECT_EQ(call("DELETE", path_of(ev), staff).status, 404);
  EXPECT_FALSE(has_id(list_all(staff), ev));
  EXPECT_FALSE(has_id(list_all(alice), ev));
  Resp log = call("GET", path_of(ev) + "log/", staff);
  ASSERT_EQ(log.status, 200) << log;
  json entries = log.j()["entries"];
  ASSERT_EQ(entries.size(), 2u) << log;
  EXPECT_EQ(entries[1]["occurrence"], "UPDATE");
  EXPECT_EQ(entries[1]["effector"], u().staff.email);
  EXPECT_EQ(entries[1]["data"]["closed"], "deleted");
}

// ---------- the audit log, SPEC §5 ----------

TEST_F(HttpApi, LogRecordsEveryActionWithSnapshots) {
  Auth alice = Auth::of(u().alice), staff = Auth::of(u().staff);
  json ev = alice_event();
  std::string p = path_of(ev);
  Resp l0 = call("GET", p + "log/", alice);
  ASSERT_EQ(l0.status, 200) << l0;
  json log = l0.j();
  EXPECT_EQ(log["event"], ev["url"]);
  EXPECT_EQ(log["parties"], ev["parties"]);
  ASSERT_EQ(log["entries"].size(), 1u) << l0;
  json e0 = log["entries"][0];
  EXPECT_TRUE(e0["id"].is_number_integer());
  EXPECT_TRUE(std::regex_match(e0.value("when", ""), kWhen)) << e0;
  EXPECT_EQ(e0["occurrence"], "UPDATE");
  EXPECT_EQ(e0["effector"], u().alice.email);
  EXPECT_EQ(e0["slots"], ev["slots"]);
  EXPECT_EQ(e0["data"], json({{"opened", "created"}}));

  // Reading the log is not logged; a detail is a VIEW.
  ASSERT_EQ(call("GET", p, alice).status, 200);
  json narrowed = json::array({three_slots()[1]});
  Resp patched = call("PATCH", p, alice, json{{"slots", narrowed}});
  ASSERT_EQ(patched.status, 202);
  ASSERT_EQ(call("GET", p, staff).status, 200);
  ASSERT_EQ(call("DELETE", p, staff).status, 204);

  json entries = log_entries(ev);
  ASSERT_EQ(entries.size(), 5u) << entries.dump(2);
  EXPECT_EQ(entries[1]["occurrence"], "VIEW");
  EXPECT_EQ(entries[1]["effector"], u().alice.email);
  EXPECT_EQ(entries[1]["slots"], ev["slots"]);
  EXPECT_EQ(entries[2]["occurrence"], "UPDATE");
  EXPECT_EQ(entries[2]["effector"], u().alice.email);
  EXPECT_EQ(entries[2]["slots"], patched.j()["slots"]);
  EXPECT_EQ(entries[3]["occurrence"], "VIEW");
  EXPECT_EQ(entries[3]["effector"], u().staff.email);
  EXPECT_EQ(entries[4]["occurrence"], "UPDATE");
  EXPECT_EQ(entries[4]["data"], json({{"closed", "deleted"}}));
  EXPECT_EQ(entries[4]["slots"], patched.j()["slots"]);
  for (size_t i = 1; i < entries.size(); ++i) {
    EXPECT_GT(entries[i]["id"].get<long long>(), entries[i - 1]["id"].get<long long>());
    EXPECT_GE(entries[i]["when"].get<std::string>(), entries[i - 1]["when"].get<std::string>());
  }
}

TEST_F(HttpApi, LogPagingWithLimitAndLinkNext) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(call("GET", path_of(ev), alice).status, 200);
  }
  json all = log_entries(ev);
  ASSERT_EQ(all.size(), 5u);
  json seen = json::array();
  std::string next = path_of(ev) + "log/?limit=2";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    Resp r = call("GET", next, alice);
    ASSERT_EQ(r.status, 200) << next << ": " << r;
    json page = r.j();
    EXPECT_LE(page["entries"].size(), 2u);
    EXPECT_EQ(page["event"], ev["url"]);
    for (auto& e : page["entries"]) {
      seen.push_back(e);
    }
    next = next_link(r);
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  // The sealer may link entries between two reads (SPEC §10), so an entry's
  // seq/prev/hash can go from null to set; everything else must be equal.
  auto unchained = [](json entries) {
    for (auto& e : entries) {
      e.erase("seq");
      e.erase("prev");
      e.erase("hash");
    }
    return entries;
  };
  EXPECT_EQ(unchained(seen), unchained(all));
}

TEST_F(HttpApi, ListPagingWithLimitAndLinkNext) {
  User zoe = stack().create_user(unique_email("zoe"), "zoe-Pass-1");
  Auth z = Auth::of(zoe);
  std::vector<long long> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(create(z, {{"parties", {zoe.email}}, {"slots", three_slots()}})["id"]);
  }
  Resp first = call("GET", "/?limit=2", z);
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_EQ(first.j().size(), 2u);
  EXPECT_EQ(first.j()[0]["id"], ids[0]);
  EXPECT_EQ(first.j()[1]["id"], ids[1]);
  std::string next = next_link(first);
  ASSERT_FALSE(next.empty()) << "no Link rel=next: " << first.header("Link");
  Resp second = call("GET", next, z);
  ASSERT_EQ(second.status, 200) << second;
  ASSERT_EQ(second.j().size(), 1u);
  EXPECT_EQ(second.j()[0]["id"], ids[2]);
  EXPECT_TRUE(next_link(second).empty());
  // Without a limit: every event, ordered by id.
  Resp all = call("GET", "/", z);
  ASSERT_EQ(all.status, 200);
  ASSERT_EQ(all.j().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(all.j()[i]["id"], ids[i]);
  }
  for (const char* bad : {"/?limit=abc", "/?limit=-1", "/?limit=0"}) {
    Resp r = call("GET", bad, z);
    EXPECT_EQ(r.status, 400) << bad << ": " << r;
  }
  // The range and the cursor's meaning are the event service's checks; its
  // errors still name the query parameters.
  for (const auto& [bad, field] : {std::pair{"/?limit=5000", "limit"}, std::pair{"/?after=abc", "after"}}) {
    Resp r = call("GET", bad, z);
    EXPECT_EQ(r.status, 400) << bad << ": " << r;
    EXPECT_TRUE(r.j().contains(field)) << bad << ": " << r;
  }
}

// ---------- HTTP mechanics ----------

TEST_F(HttpApi, MissingTrailingSlashRedirectsKeepingTheQuery) {
  json ev = alice_event();
  std::string id = std::to_string(ev["id"].get<long long>());
  Auth alice = Auth::of(u().alice);
  size_t before = log_entries(ev).size();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"/" + id, "/" + id + "/"},
           {"/" + id + "?a=1&et=abc", "/" + id + "/?a=1&et=abc"},
           {"/" + id + "/log", "/" + id + "/log/"},
           {"/" + id + "/log?limit=1", "/" + id + "/log/?limit=1"},
           {"/" + id + "/notify", "/" + id + "/notify/"}}) {
    for (const Auth& a : {alice, Auth::none()}) {
      Resp r = call("GET", from, a);
      EXPECT_EQ(r.status, 301) << from << ": " << r;
      std::string loc = r.header("Location");
      EXPECT_TRUE(loc == to || (loc.size() > to.size() && loc.substr(loc.size() - to.size()) == to &&
                                loc.find("://") != std::string::npos))
          << from << " -> " << loc << ", wanted " << to;
    }
  }
  EXPECT_EQ(log_entries(ev).size(), before) << "a redirect was logged";

  // Any number redirects, 0 and leading zeros too; the target then says 404.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"/0", "/0/"},
                                                        {"/0?a=1", "/0/?a=1"},
                                                        {"/0/log", "/0/log/"},
                                                        {"/0/notify", "/0/notify/"},
                                                        {"/00" + id, "/00" + id + "/"}}) {
    Resp r = call("GET", from, alice);
    EXPECT_EQ(r.status, 301) << from << ": " << r;
    std::string loc = r.header("Location");
    EXPECT_TRUE(loc.size() >= to.size() && loc.substr(loc.size() - to.size()) == to)
        << from << " -> " << loc << ", wanted " << to;
  }
  EXPECT_EQ(call("GET", "/0/", alice).status, 404);
  EXPECT_EQ(log_entries(ev).size(), before) << "a redirect was logged";
}

TEST_F(HttpApi, UnsupportedMethodsAre405WithAllow) {
  json ev = alice_event();
  std::string p = path_of(ev);
  Auth alice = Auth::of(u().alice);
  auto allow_set = [](const std::string& allow) {
    std::set<std::string> s;
    std::regex word("[A-Z]+");
    for (auto it = std::sregex_iterator(allow.begin(), allow.end(), word); it != std::sregex_iterator();
         ++it) {
      s.insert(it->str());
    }
    return s;
  };
  size_t before = log_entries(ev).size();
  struct Case {
    std::string method, path;
    std::set<std::string> must_allow, must_not_allow;
  };
  for (const Case& c : std::vector<Case>{{"GET", p + "notify/", {"POST"}, {"GET"}},
                                         {"PUT", p, {"GET", "PATCH", "DELETE"}, {"PUT"}},
                                         {"POST", p, {"GET", "PATCH", "DELETE"}, {"POST"}},
                                         {"POST", p + "log/", {"GET"}, {"POST"}},
                                         {"DELETE", "/", {"GET", "POST"}, {"DELETE"}},
                                         {"PATCH", "/", {"GET", "POST"}, {"PATCH"}},
                                         {"GET", "/api-token-auth/", {"POST"}, {"GET"}}}) {
    for (const Auth& a : {alice, Auth::none()}) {
      Resp r = call(c.method, c.path, a, c.method == "GET" ? std::nullopt : std::optional<std::string>("{}"));
      EXPECT_EQ(r.status, 405) << c.method << " " << c.path << ": " << r;
      auto allowed = allow_set(r.header("Allow"));
      for (const auto& m : c.must_allow) {
        EXPECT_TRUE(allowed.count(m)) << c.method << " " << c.path << " Allow: " << r.header("Allow");
      }
      for (const auto& m : c.must_not_allow) {
        EXPECT_FALSE(allowed.count(m)) << c.method << " " << c.path << " Allow: " << r.header("Allow");
      }
    }
  }
  expect_unchanged(ev, before);
}

TEST_F(HttpApi, BodiesOver64KiBAre413AndChangeNothing) {
  json ev = alice_event();
  size_t before = log_entries(ev).size();
  std::string big = json{{"title", std::string(70 * 1024, 'a')}, {"parties", {u().alice.email}}}.dump();
  Resp r = call("POST", "/", Auth::of(u().alice), std::optional<std::string>(big));
  EXPECT_EQ(r.status, 413) << r.status;
  Resp p = call("PATCH", path_of(ev), Auth::of(u().alice),
                std::optional<std::string>(json{{"title", std::string(65 * 1024 + 1, 'b')}}.dump()));
  EXPECT_EQ(p.status, 413) << p.status;
  expect_unchanged(ev, before);
  // A body just under the limit reaches validation (400 for the title, not 413).
  std::string under = json{{"title", std::string(60 * 1024, 'c')}}.dump();
  Resp u2 = call("PATCH", path_of(ev), Auth::of(u().alice), std::optional<std::string>(under));
  expect_field_error(u2, "title", "60 KiB title");
}

TEST_F(HttpApi, NotFoundRoutes) {
  Auth alice = Auth::of(u().alice);
  for (const char* p : {"/nope/", "/1/2/", "/abc/", "/1/log/x/", "/-1/"}) {
    Resp r = call("GET", p, alice);
    EXPECT_EQ(r.status, 404) << p << ": " << r;
  }
}

// ---------- bad input, SPEC §3, §4, §7 ----------

// Each create test below runs as a fresh user: "nothing was created" is
// an empty listing.
TEST_F(HttpApi, CreateRejectsABodyThatIsNotAJsonObject) {
  const Auth fresh = Auth::of(stack().create_user(unique_email("strict"), "strict-Pass-1"));
  for (const char* body : {"{", "", "not json", "{\"parties\": [}", "[]", "1", "\"x\"", "null", "true"}) {
    Resp r = call("POST", "/", fresh, std::optional<std::string>(body));
    EXPECT_EQ(r.status, 400) << "body " << body << ": " << r;
    if (r.status == 400) {
      EXPECT_TRUE(r.j().is_object()) << r;
    }
  }
  expect_no_events(fresh);
}

TEST_F(HttpApi, CreateRejectsBadPartiesNamingTheField) {
  const User fresh = stack().create_user(unique_email("strict"), "strict-Pass-1");
  const json slots = three_slots();
  const auto with_parties = [&](const json& parties) { return json{{"parties", parties}, {"slots", slots}}; };
  json many_parties = json::array({fresh.email});
  for (int i = 0; i < 100; ++i) {
    many_parties.push_back("p" + std::to_string(i) + "." + unique_email("many"));
  }
  expect_creates_rejected(Auth::of(fresh), "parties",
                          {{json{{"slots", slots}}, "missing parties"},
                           {with_parties(json::array()), "empty parties"},
                           {with_parties("a@b.net"), "parties not an array"},
                           {with_parties({1, 2}), "parties not strings"},
                           {with_parties({"not-an-email"}), "bad email"},
                           {with_parties({"a@"}), "bad email a@"},
                           {with_parties({"@b.net"}), "bad email @b.net"},
                           {with_parties({"a b@c.net"}), "email with space"},
                           {with_parties({email_of_length(255)}), "255-char email"},
                           {with_parties(many_parties), "101 parties"}});
  CommandResult users = stack().admin({"user", "list"});
  EXPECT_EQ(users.output().find("p0."), std::string::npos) << "a rejected create made users";
}

TEST_F(HttpApi, CreateRejectsBadSlotsNamingTheField) {
  const User fresh = stack().create_user(unique_email("strict"), "strict-Pass-1");
  const auto with_slots = [&](const json& slots) {
    return json{{"parties", {fresh.email}}, {"slots", slots}};
  };
  const auto with_slot = [&](const json& slot) { return with_slots(json::array({slot})); };
  const auto starting = [&](const std::string& begin) { return with_slot(slot_json(begin, "01:00")); };
  const auto lasting = [&](const std::string& duration) {
    return with_slot(slot_json("2030-01-01T10:00:00Z", duration));
  };
  json many_slots = json::array();
  for (int i = 0; i < 31; ++i) {
    many_slots.push_back(nth_slot(i));
  }
  expect_creates_rejected(Auth::of(fresh), "slots",
                          {{with_slots("soon"), "slots not an array"},
                           {with_slots(many_slots), "31 slots"},
                           {with_slot("2030-01-01T00:00:00Z"), "slot not an object"},
                           {with_slot(json{{"begin", "2030-01-01T00:00:00Z"}}), "slot without duration"},
                           {with_slot(json{{"duration", "01:00"}}), "slot without begin"},
                           {with_slot(json{{"begin", 1612345678}, {"duration", "01:00"}}), "numeric begin"},
                           {starting("2021-02-30T10:00:00Z"), "2021-02-30"},
                           {starting("2021-13-01T10:00:00Z"), "month 13"},
                           {starting("2021-01-01T24:30:00Z"), "hour 24"},
                           {starting("2021-01-01T10:61:00Z"), "minute 61"},
                           {starting("2021-01-01T10:00:00+25:00"), "offset +25:00"},
                           {starting("tomorrow"), "garbage begin"},
                           {starting(""), "empty begin"},
                           {starting("2021-01-01T10:00:00.1234567Z"), "nanoseconds"},
                           {lasting("00:00"), "zero duration"},
                           {lasting("00:00:00"), "zero duration HH:MM:SS"},
                           {lasting("PT0S"), "zero ISO duration"},
                           {lasting("-01:00"), "negative duration"},
                           {lasting("an hour"), "garbage duration"},
                           {lasting(""), "empty duration"},
                           {lasting("10:75"), "75 minutes"}});
}

TEST_F(HttpApi, CreateRejectsBadTitlesNamingTheField) {
  const User fresh = stack().create_user(unique_email("strict"), "strict-Pass-1");
  const auto with_title = [&](const json& title) {
    return json{{"parties", {fresh.email}}, {"slots", three_slots()}, {"title", title}};
  };
  expect_creates_rejected(
      Auth::of(fresh), "title",
      {{with_title(std::string(257, 't')), "257-char title"}, {with_title(42), "numeric title"}});
}

// SPEC §7's limits themselves are fine: 30 slots, 100 parties, a 256-char
// title, a 254-char email.
TEST_F(HttpApi, CreateAcceptsEveryLimitItself) {
  json slots = json::array();
  for (int i = 0; i < 30; ++i) {
    slots.push_back(nth_slot(i));
  }
  const User fresh = stack().create_user(unique_email("strict"), "strict-Pass-1");
  json parties = json::array({fresh.email, email_of_length(254)});
  for (int i = 2; i < 100; ++i) {
    parties.push_back("p" + std::to_string(i) + "." + unique_email("many"));
  }
  Resp ok = call("POST", "/", Auth::of(fresh),
                 json{{"parties", parties}, {"slots", slots}, {"title", std::string(256, 't')}});
  ASSERT_EQ(ok.status, 201) << ok;
  EXPECT_EQ(ok.j()["slots"].size(), 30u);
  EXPECT_EQ(ok.j()["parties"].size(), 100u);
  EXPECT_EQ(ok.j()["title"].get<std::string>().size(), 256u);
}

TEST_F(HttpApi, PatchRejectsBadInputAndChangesNothing) {
  json ev = alice_event();
  Auth alice = Auth::of(u().alice);
  size_t before = log_entries(ev).size();
  auto patch_raw = [&](const std::string& body) {
    return call("PATCH", path_of(ev), alice, std::optional<std::string>(body));
  };
  for (const char* body : {"{", "[]", "42", "\"slots\"", "nonsense"}) {
    EXPECT_EQ(patch_raw(body).status, 400) << body;
  }
  json many = json::array();
  for (int i = 0; i < 31; ++i) {
    many.push_back(nth_slot(i, "03"));
  }
  std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"slots", json{{"slots", {slot_json("2021-02-30T10:00:00Z", "01:00")}}}, "2021-02-30"},
      {"slots", json{{"slots", {slot_json("2021-02-28T10:00:00Z", "0:00")}}}, "zero duration"},
      {"slots", json{{"slots", {slot_json("garbage", "01:00")}}}, "garbage"},
      {"slots", json{{"slots", {slot_json("2030-01-01T10:00:00Z", "PT")}}}, "empty ISO duration"},
      {"slots", json{{"slots", "all"}}, "slots not an array"},
      {"slots", json{{"slots", nullptr}}, "slots null"},
      {"slots", json{{"slots", many}}, "31 slots"},
      {"slots", json{{"title", "fine"}, {"slots", {slot_json("2030-01-01T10:00:00Z", "nope")}}},
       "good title, bad slot"},
      {"title", json{{"title", std::string(257, 'x')}}, "257-char title"},
      {"title", json{{"title", json::array()}}, "title not a string"},
  };
  for (const auto& [field, body, what] : cases) {
    expect_field_error(call("PATCH", path_of(ev), alice, body), field, what);
  }
  expect_unchanged(ev, before);
}

// SPEC §7: a title with a control character (C0 anywhere, its ends
// included; DEL; C1), U+2028/U+2029 or a bidirectional override or isolate
// is 400 naming `title`, on create and PATCH, and changes nothing. A body
// that is not UTF-8 is 400 too. The direction marks U+200E/U+200F stay
// allowed (docs/ARCHITECTURE.md).
TEST_F(HttpApi, TitlesWithControlsOrBidiOverridesAre400NamingTitle) {
  User fresh = stack().create_user(unique_email("titles"), "titles-Pass-1");
  const Auth a = Auth::of(fresh);
  json ev = create(a, {{"title", "plain"}, {"parties", {fresh.email}}, {"slots", three_slots()}});
  const size_t before = log_entries(ev).size();
  // As JSON escapes, as a client would send them.
  for (const char* title : {"tab\\there", "trailing line break\\n", "\\u0000", "del\\u007f",
                            "c1 \\u0085 next line", "csi \\u009b", "line\\u2028sep", "para\\u2029sep",
                            "invoice \\u202efdp.exe", "\\u202aembedded\\u202c", "\\u2066isolated\\u2069"}) {
    const std::string field = std::string("\"title\": \"") + title + "\"";
    expect_field_error(call("POST", "/", a,
                            std::optional<std::string>("{" + field + ", \"parties\": [\"" + fresh.email +
                                                       "\"], \"slots\": []}")),
                       "title", std::string("create: ") + title);
    expect_field_error(call("PATCH", path_of(ev), a, std::optional<std::string>("{" + field + "}")), "title",
                       std::string("patch: ") + title);
  }
  // Bytes that are not UTF-8 are no JSON text at all.
  const Resp latin1 = call("PATCH", path_of(ev), a, std::optional<std::string>("{\"title\": \"caf\xE9\"}"));
  EXPECT_EQ(latin1.status, 400) << latin1;
  Resp list = call("GET", "/", a);
  EXPECT_EQ(list.j().size(), 1u) << "a refused create left an event behind";
  expect_unchanged(ev, before);

  const Resp marks =
      call("PATCH", path_of(ev), a, json{{"title", "\u05e4\u05d2\u05d9\u05e9\u05d4 \u200f10:00 \u200e(ok)"}});
  EXPECT_EQ(marks.status, 202) << marks;
}

TEST_F(HttpApi, FailedCallsWriteNoLogEntry) {
  json ev = alice_event();
  size_t before = log_entries(ev).size();
  call("PATCH", path_of(ev), Auth::of(u().bob), json{{"title", "nope"}});  // 403
  call("PATCH", path_of(ev), Auth::of(u().alice), json{{"slots", "x"}});   // 400
  call("GET", path_of(ev), Auth::of(u().bob));                             // 403: no VIEW
  call("GET", path_of(ev), Auth::basic(u().alice.email, "bad"));           // 401
  call("DELETE", path_of(ev), Auth::of(u().alice));                        // 403
  expect_unchanged(ev, before);
}

TEST_F(HttpApi, SeedSpellingsAreAccepted) {
  // The seed scenario's shape with httpie: parties:= and slots:= arrays.
  std::string they = unique_email("they"), them = unique_email("them");
  json ev = create(Auth::of(u().alice),
                   {{"parties", {u().alice.email, they, them}},
                    {"slots",
                     {slot_json("2022-11-01T01:11:22.02", "00:10"), slot_json("2022-11-02T13:00", "01:00"),
                      slot_json("2022-11-03T09:30:00+0100", "PT1H30M")}}});
  EXPECT_EQ(ev["slots"], json::array({slot_json("2022-11-01T01:11:22.020000Z", "00:10:00"),
                                      slot_json("2022-11-02T13:00:00Z", "01:00:00"),
                                      slot_json("2022-11-03T08:30:00Z", "01:30:00")}));
  // Narrow with different spellings of two of the same slots.
  Resp r = call("PATCH", path_of(ev), Auth::of(u().alice),
                json{{"slots",
                      {slot_json("2022-11-01T03:11:22.020000+02:00", "0:10:00"),
                       slot_json("2022-11-03T08:30:00.000Z", "01:30")}}});
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.j()["slots"], json::array({slot_json("2022-11-01T01:11:22.020000Z", "00:10:00"),
                                         slot_json("2022-11-03T08:30:00Z", "01:30:00")}));
}

}  // namespace
