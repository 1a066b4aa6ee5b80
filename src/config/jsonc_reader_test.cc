// Tests for the JSONC reader: the trailing-comma pre-pass, comments, line numbers of values and of
// syntax errors, duplicate keys.
#include "config/jsonc_reader.h"

#include <gtest/gtest.h>

namespace duro::config {
namespace {

TEST(BlankTrailingCommas, RemovesOnlyCommasBeforeClosingBrackets) {
  EXPECT_EQ(blankTrailingCommas("[1,2,]"), "[1,2 ]");
  EXPECT_EQ(blankTrailingCommas("{\"a\":1,}"), "{\"a\":1 }");
  EXPECT_EQ(blankTrailingCommas("{\"a\":[1,],\"b\":2,\n}"), "{\"a\":[1 ],\"b\":2 \n}");
  EXPECT_EQ(blankTrailingCommas("[1, 2]"), "[1, 2]");
  EXPECT_EQ(blankTrailingCommas("[\"a\",\n]"), "[\"a\" \n]");
  EXPECT_EQ(blankTrailingCommas("{\"a\":{},}"), "{\"a\":{} }");
}

TEST(BlankTrailingCommas, LeavesCommasThatFollowNoValue) {
  EXPECT_EQ(blankTrailingCommas("[,]"), "[,]");
  EXPECT_EQ(blankTrailingCommas("{ , }"), "{ , }");
  EXPECT_EQ(blankTrailingCommas("[1,,]"), "[1,,]");
  std::vector<std::string> warnings;
  EXPECT_FALSE(readJsonc("[1,,]", "w.json", warnings).isOk());
  EXPECT_FALSE(readJsonc("{,}", "w.json", warnings).isOk());
}

TEST(BlankTrailingCommas, LooksThroughCommentsAndKeepsStringsIntact) {
  EXPECT_EQ(blankTrailingCommas("[1, // last\n /* x, */ ]"), "[1  // last\n /* x, */ ]");
  // Commas, brackets and comment markers inside strings are text.
  std::string strings = R"({"a": "x,]", "b": "// not a comment,", "c": "\",]"})";
  EXPECT_EQ(blankTrailingCommas(strings), strings);
  // A comma inside a comment is not touched either.
  EXPECT_EQ(blankTrailingCommas("[1 /* , ] */]"), "[1 /* , ] */]");
}

TEST(BlankTrailingCommas, KeepsEveryByteInPlace) {
  std::string text = "{\n  \"a\": [1, 2,],\n  // c\n  \"b\": {\"c\": 3,},\n}\n";
  std::string out = blankTrailingCommas(text);
  ASSERT_EQ(out.size(), text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != out[i]) {
      EXPECT_EQ(text[i], ',');
      EXPECT_EQ(out[i], ' ');
    }
  }
}

TEST(ReadJsonc, ParsesCommentsTrailingCommasAndRecordsLines) {
  std::vector<std::string> warnings;
  Result<ConfigValue> v = readJsonc(
      "// header\n"
      "{\n"
      "  \"name\": \"w\", /* inline */\n"
      "  \"n\": 42,\n"
      "  \"list\": [\n"
      "    1.5,\n"
      "    true,\n"
      "  ],\n"
      "}\n",
      "w.jsonc", warnings);
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(v->members.size(), 3u);
  EXPECT_EQ(v->members[0].key, "name");
  EXPECT_EQ(v->members[0].value.text, "w");
  EXPECT_EQ(v->members[0].value.line, 3u);
  EXPECT_EQ(v->members[1].value.integer, 42);
  EXPECT_EQ(v->members[1].value.line, 4u);
  const ConfigValue& list = v->members[2].value;
  EXPECT_EQ(list.line, 5u);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0].number, 1.5);
  EXPECT_EQ(list.items[0].line, 6u);
  EXPECT_TRUE(list.items[1].boolean);
  EXPECT_EQ(list.items[1].line, 7u);
}

TEST(ReadJsonc, SyntaxErrorGivesLineAndColumn) {
  std::vector<std::string> warnings;
  Result<ConfigValue> v = readJsonc("{\n  \"a\": 1,\n  \"b\" 2\n}\n", "w.json", warnings);
  ASSERT_FALSE(v.isOk());
  EXPECT_TRUE(v.status().isInvalidArgument());
  EXPECT_EQ(v.status().message().rfind("w.json:3:7: JSON syntax error: ", 0), 0u)
      << v.status().message();
}

TEST(ReadJsonc, DuplicateKeyKeepsLastValueAndWarns) {
  std::vector<std::string> warnings;
  Result<ConfigValue> v = readJsonc("{\"a\": 1, \"b\": 2,\n \"a\": 3}", "w.json", warnings);
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  ASSERT_EQ(v->members.size(), 2u);
  EXPECT_EQ(v->members[0].key, "a");
  EXPECT_EQ(v->members[0].value.integer, 3);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "w.json:2: key \"a\" appears more than once; the last value is used");
}

}  // namespace
}  // namespace duro::config
