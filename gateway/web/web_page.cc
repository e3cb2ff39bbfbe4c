#include "gateway/web/web_page.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

#include "gateway/web/web_assets.h"

namespace calndro::gateway {

namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) {
    return {};
  }
  const auto end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. Anything else
// makes the media range unusable (-1).
double parse_quality(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 5 || (text[0] != '0' && text[0] != '1')) {
    return -1;
  }
  if (text.size() > 1 && text[1] != '.') {
    return -1;
  }
  int thousandths = 0;
  int scale = 100;
  for (std::size_t i = 2; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return -1;
    }
    thousandths += (text[i] - '0') * scale;
    scale /= 10;
  }
  const int value = (text[0] - '0') * 1000 + thousandths;
  if (value > 1000) {
    return -1;
  }
  return value / 1000.0;
}

// How specifically `range` ("type/subtype", trimmed) names type/subtype:
// type/subtype (3) over type/* (2) over */* (1); 0 when it does not match.
int specificity(std::string_view range, std::string_view type, std::string_view subtype) {
  const auto slash = range.find('/');
  if (range.empty() || slash == std::string_view::npos) {
    return 0;
  }
  const std::string_view range_type = trim(range.substr(0, slash));
  const std::string_view range_subtype = trim(range.substr(slash + 1));
  if (range_type == "*" && range_subtype == "*") {
    return 1;
  }
  if (iequals(range_type, type) && range_subtype == "*") {
    return 2;
  }
  return iequals(range_type, type) && iequals(range_subtype, subtype) ? 3 : 0;
}

// The q parameter of a media range's parameters (1 when absent, -1 when
// malformed). Parameters other than q make a range more specific than we
// need (text/html;level=1): they count as the plain type.
double quality_parameter(std::string_view params) {
  while (!params.empty()) {
    std::string_view param = params;
    if (auto semicolon = params.find(';'); semicolon != std::string_view::npos) {
      param = params.substr(0, semicolon);
      params = params.substr(semicolon + 1);
    } else {
      params = {};
    }
    auto equals = param.find('=');
    if (equals != std::string_view::npos && iequals(trim(param.substr(0, equals)), "q")) {
      return parse_quality(param.substr(equals + 1));
    }
  }
  return 1;
}

}  // namespace

double accept_quality(std::string_view accept, std::string_view type, std::string_view subtype) {
  if (trim(accept).empty()) {
    return 1;
  }
  // The most specific matching range decides; the same range twice: the better q wins.
  int best_specificity = 0;
  double quality = 0;
  std::size_t start = 0;
  while (start <= accept.size()) {
    std::size_t end = std::min(accept.find(',', start), accept.size());
    const std::string_view element = accept.substr(start, end - start);
    start = end + 1;
    const auto semicolon = element.find(';');
    const int found = specificity(trim(element.substr(0, semicolon)), type, subtype);
    const double q =
        semicolon == std::string_view::npos ? 1 : quality_parameter(element.substr(semicolon + 1));
    if (found == 0 || q < 0) {
      continue;  // no match, or a malformed q-value: ignore the range
    }
    if (found > best_specificity || (found == best_specificity && q > quality)) {
      best_specificity = found;
      quality = q;
    }
  }
  return quality;
}

bool prefers_html(std::string_view accept) {
  if (trim(accept).empty()) {
    return false;
  }
  const double html = accept_quality(accept, "text", "html");
  const double json = accept_quality(accept, "application", "json");
  return html > 0 && html > json;
}

namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kShort = "public, max-age=300";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::string_view kJs = "text/javascript; charset=utf-8";

struct AssetTable {
  std::string css_versioned = "/static/app." + std::string(web_assets::app_css_version()) + ".css";
  std::string js_versioned = "/static/app." + std::string(web_assets::app_js_version()) + ".js";
  StaticAsset page{"/static/index.html", "text/html; charset=utf-8", "no-store", web_assets::index_html()};
  std::array<StaticAsset, 5> assets{{
      {css_versioned, kCss, kImmutable, web_assets::app_css()},
      {js_versioned, kJs, kImmutable, web_assets::app_js()},
      {"/static/app.css", kCss, kShort, web_assets::app_css()},
      {"/static/app.js", kJs, kShort, web_assets::app_js()},
      page,
  }};
};

const AssetTable& table() {
  static const AssetTable instance;
  return instance;
}

}  // namespace

const StaticAsset& page_asset() {
  return table().page;
}

const StaticAsset* find_static_asset(std::string_view path) {
  for (const auto& asset : table().assets) {
    if (asset.path == path) {
      return &asset;
    }
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> asset_headers(const StaticAsset& asset) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Cache-Control", std::string(asset.cache_control)},
      {"X-Content-Type-Options", "nosniff"},
  };
  if (asset.content_type.starts_with("text/html")) {
    headers.emplace_back("Content-Security-Policy", std::string(kPageContentSecurityPolicy));
    headers.emplace_back("Referrer-Policy", "no-referrer");
    headers.emplace_back("X-Frame-Options", "DENY");
  }
  return headers;
}

}  // namespace calndro::gateway
