// Tests for the HTTP value types (include/duro/http.h).
#include "duro/http.h"

#include <gtest/gtest.h>

namespace duro {
namespace {

TEST(Headers, CaseInsensitiveLookupSetAppendRemove) {
  Headers h;
  h.append("Content-Type", "text/plain");
  h.append("X-A", "1");
  h.append("x-a", "2");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get("X-A"), "1");
  h.set("X-a", "3");
  EXPECT_EQ(h.get("x-a"), "3");
  EXPECT_EQ(h.fields().size(), 2u);
  h.remove("CONTENT-TYPE");
  EXPECT_FALSE(h.has("content-type"));
}

TEST(Request, PathQueryAndParams) {
  Request r;
  r.url = "http://127.0.0.1:8787/counter/alice?x=1&y=&z#frag";
  EXPECT_EQ(r.path(), "/counter/alice");
  EXPECT_EQ(r.query(), "x=1&y=&z");
  EXPECT_EQ(r.queryParam("x"), "1");
  EXPECT_EQ(r.queryParam("y"), "");
  EXPECT_EQ(r.queryParam("z"), "");
  EXPECT_FALSE(r.queryParam("w").has_value());
  r.url = "http://host";
  EXPECT_EQ(r.path(), "/");
  r.url = "/just/path";
  EXPECT_EQ(r.path(), "/just/path");
}

TEST(Response, TextAndJsonSetContentType) {
  Response t = Response::text("hi", 429);
  EXPECT_EQ(t.status, 429);
  EXPECT_EQ(t.body, "hi");
  EXPECT_EQ(t.headers.get("content-type"), "text/plain;charset=UTF-8");
  EXPECT_EQ(Response::json("{}").headers.get("Content-Type"), "application/json");
  EXPECT_EQ(reasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(reasonPhrase(799), "");
}

}  // namespace
}  // namespace duro
