// Tests for the JSON.stringify-like serializer that turns non-string [vars] into JSON text.
#include "config/config_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace duro::config {
namespace {

TEST(FormatJsNumber, MatchesJavaScriptNumberToString) {
  EXPECT_EQ(formatJsNumber(1.5), "1.5");
  EXPECT_EQ(formatJsNumber(-0.25), "-0.25");
  EXPECT_EQ(formatJsNumber(3.0), "3");
  EXPECT_EQ(formatJsNumber(0.1), "0.1");
  EXPECT_EQ(formatJsNumber(100.0), "100");
  EXPECT_EQ(formatJsNumber(123456789.125), "123456789.125");
  EXPECT_EQ(formatJsNumber(1e21), "1e+21");
  EXPECT_EQ(formatJsNumber(1.5e300), "1.5e+300");
  EXPECT_EQ(formatJsNumber(1e20), "100000000000000000000");
  EXPECT_EQ(formatJsNumber(0.000001), "0.000001");
  EXPECT_EQ(formatJsNumber(1e-7), "1e-7");
  EXPECT_EQ(formatJsNumber(2.5e-8), "2.5e-8");
  EXPECT_EQ(formatJsNumber(0.0), "0");
  EXPECT_EQ(formatJsNumber(std::numeric_limits<double>::infinity()), "Infinity");
}

ConfigValue scalarOf(ConfigValue::Kind kind) {
  ConfigValue v;
  v.kind = kind;
  return v;
}

TEST(ToJsonText, KeepsMemberOrderAndEscapesLikeJsonStringify) {
  ConfigValue table = scalarOf(ConfigValue::Kind::kTable);
  ConfigValue text = scalarOf(ConfigValue::Kind::kString);
  text.text = "a \"q\" \\ \n\t\x01 é";
  ConfigValue number = scalarOf(ConfigValue::Kind::kFloat);
  number.number = 2.0;
  ConfigValue nan = scalarOf(ConfigValue::Kind::kFloat);
  nan.number = std::nan("");
  ConfigValue list = scalarOf(ConfigValue::Kind::kArray);
  ConfigValue one = scalarOf(ConfigValue::Kind::kInteger);
  one.integer = -1;
  ConfigValue yes = scalarOf(ConfigValue::Kind::kBool);
  yes.boolean = true;
  list.items = {one, yes, scalarOf(ConfigValue::Kind::kNull)};
  table.members.push_back({"z", text});
  table.members.push_back({"a", number});
  table.members.push_back({"n", nan});
  table.members.push_back({"list", list});
  EXPECT_EQ(toJsonText(table),
            "{\"z\":\"a \\\"q\\\" \\\\ \\n\\t\\u0001 é\",\"a\":2,\"n\":null,"
            "\"list\":[-1,true,null]}");
}

}  // namespace
}  // namespace duro::config
