// Tests for Status and Result (include/duro/status.h).
#include "duro/status.h"

#include <gtest/gtest.h>

namespace duro {
namespace {

TEST(Status, DefaultIsOkAndFree) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.toString(), "ok");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = Status::overloaded("too many");
  EXPECT_FALSE(s.isOk());
  EXPECT_TRUE(s.isOverloaded());
  EXPECT_EQ(s.message(), "too many");
  EXPECT_EQ(s.toString(), "overloaded: too many");
  Status copy = s;
  EXPECT_EQ(copy.code(), StatusCode::kOverloaded);
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(*ok, 5);
  EXPECT_TRUE(ok.status().isOk());
  Result<int> bad = Status::notFound("nope");
  EXPECT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  try {
    std::move(bad).valueOrThrow();
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    EXPECT_STREQ(e.what(), "nope");
  }
}

static_assert(std::is_nothrow_move_constructible_v<Status>);

}  // namespace
}  // namespace duro
