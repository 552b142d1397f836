// The web console's static files as the server serves them (embedded at
// build time from runtime/console/web/).
#include "console/console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace eddy::runtime::console {
namespace {

using ::testing::HasSubstr;

class ConsoleTest : public ::testing::Test {
 protected:
  HttpResponse Get(std::string_view path) {
    HttpResponse response;
    ServeConsole(path, &response);
    return response;
  }
  static std::string Header(const HttpResponse& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }
};

// Only /console and what is below /console/ belong to the console; the
// DynamoDB API and the other GETs keep their paths.
TEST_F(ConsoleTest, OwnsOnlyItsPaths) {
  EXPECT_TRUE(IsConsolePath("/console"));
  EXPECT_TRUE(IsConsolePath("/console/"));
  EXPECT_TRUE(IsConsolePath("/console/console.js"));
  EXPECT_FALSE(IsConsolePath("/"));
  EXPECT_FALSE(IsConsolePath("/consoles"));
  EXPECT_FALSE(IsConsolePath("/metrics"));
}

// A bookmark without the slash still works.
TEST_F(ConsoleTest, BarePathRedirectsToTheDirectory) {
  HttpResponse r = Get("/console");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(Header(r, "Location"), "/console/");
}

// The directory is the page, with its scripts and styles by relative name.
TEST_F(ConsoleTest, DirectoryIsTheIndexPage) {
  HttpResponse r = Get("/console/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("<script type=\"module\" src=\"console.js\">"));
  EXPECT_EQ(r.body, Get("/console/index.html").body);
}

// Each embedded file is served whole, with its type; browsers refuse a
// module script of another type (and nosniff forbids guessing).
TEST_F(ConsoleTest, ServesEveryEmbeddedFileWithItsType) {
  ASSERT_GE(kEmbeddedFileCount, 4u);
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& file = kEmbeddedFiles[i];
    HttpResponse r = Get(std::string("/console/") + file.name);
    EXPECT_EQ(r.status, 200) << file.name;
    EXPECT_EQ(r.body.size(), file.size) << file.name;
    EXPECT_GT(file.size, 500u) << file.name;
  }
  EXPECT_EQ(Header(Get("/console/console.js"), "Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(Get("/console/sigv4.js"), "Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(Get("/console/console.css"), "Content-Type"),
            "text/css; charset=utf-8");
}

// Nothing outside the embedded set is reachable, however it is spelled.
TEST_F(ConsoleTest, UnknownFilesAreNotFound) {
  for (const char* path : {"/console/nothing.js", "/console/../metrics",
                           "/console/web/console.js", "/console//index.html"}) {
    EXPECT_EQ(Get(path).status, 404) << path;
  }
}

// Every answer, even a 404, is locked down: only the console's own
// scripts run, requests go to this origin only, no framing, no sniffing.
TEST_F(ConsoleTest, EveryResponseCarriesTheSecurityHeaders) {
  for (const char* path : {"/console", "/console/", "/console/nothing"}) {
    HttpResponse r = Get(path);
    const std::string csp = Header(r, "Content-Security-Policy");
    EXPECT_THAT(csp, HasSubstr("default-src 'none'")) << path;
    EXPECT_THAT(csp, HasSubstr("script-src 'self'")) << path;
    EXPECT_THAT(csp, HasSubstr("connect-src 'self'")) << path;
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'")) << path;
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY") << path;
  }
}

}  // namespace
}  // namespace eddy::runtime::console
