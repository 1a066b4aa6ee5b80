// Tests for the module rules: wrangler's fallthrough pass, the defaults, first-match lookup.
#include "config/module_rules.h"

#include <gtest/gtest.h>

namespace duro::config {
namespace {

ConfiguredRule rule(ModuleType type, std::vector<std::string> globs,
                    std::optional<bool> fallthrough, std::string where) {
  return {{type, std::move(globs), fallthrough.value_or(false)}, fallthrough, std::move(where)};
}

TEST(ModuleRules, RuleWithoutFallthroughDropsLaterRulesOfItsTypeAndWarns) {
  std::vector<ConfiguredRule> rules = {
      rule(ModuleType::kText, {"**/*.md"}, std::nullopt, "rules[0]"),
      rule(ModuleType::kData, {"**/*.dat"}, std::nullopt, "rules[1]"),
      rule(ModuleType::kText, {"**/*.txt", "**/*.html"}, std::nullopt, "the default rule"),
  };
  FallthroughResult result = applyFallthrough(rules);
  ASSERT_EQ(result.rules.size(), 2u);
  EXPECT_EQ(result.rules[0].globs, std::vector<std::string>{"**/*.md"});
  EXPECT_EQ(result.rules[1].type, ModuleType::kData);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0],
            "rules[0] (Text: **/*.md) has no fallthrough = true, so these later Text rules are "
            "ignored: the default rule (Text: **/*.txt, **/*.html). Set fallthrough = true to keep "
            "them, or fallthrough = false to silence this");
}

TEST(ModuleRules, FallthroughTrueKeepsLaterRulesAndFalseDropsQuietly) {
  FallthroughResult kept = applyFallthrough({
      rule(ModuleType::kText, {"**/*.md"}, true, "rules[0]"),
      rule(ModuleType::kText, {"**/*.txt"}, std::nullopt, "the default rule"),
  });
  EXPECT_EQ(kept.rules.size(), 2u);
  EXPECT_TRUE(kept.rules[0].fallthrough);
  EXPECT_TRUE(kept.warnings.empty());

  FallthroughResult quiet = applyFallthrough({
      rule(ModuleType::kText, {"**/*.md"}, false, "rules[0]"),
      rule(ModuleType::kText, {"**/*.txt"}, std::nullopt, "the default rule"),
  });
  EXPECT_EQ(quiet.rules.size(), 1u);
  EXPECT_TRUE(quiet.warnings.empty());
}

TEST(ModuleRules, DefaultsCoverWranglersFileTypesAndDurosFallbacks) {
  std::vector<ModuleRule> rules = wranglerDefaultRules();
  for (ModuleRule& r : duroDefaultRules()) rules.push_back(r);
  EXPECT_EQ(moduleTypeFor(rules, "a.txt"), ModuleType::kText);
  EXPECT_EQ(moduleTypeFor(rules, "pages/index.html"), ModuleType::kText);
  EXPECT_EQ(moduleTypeFor(rules, "blob.bin"), ModuleType::kData);
  EXPECT_EQ(moduleTypeFor(rules, "pkg/m.wasm"), ModuleType::kCompiledWasm);
  EXPECT_EQ(moduleTypeFor(rules, "pkg/m.wasm?module"), ModuleType::kCompiledWasm);
  EXPECT_EQ(moduleTypeFor(rules, "src/index.js"), ModuleType::kESModule);
  EXPECT_EQ(moduleTypeFor(rules, "./lib.mjs"), ModuleType::kESModule);
  EXPECT_EQ(moduleTypeFor(rules, "old.cjs"), ModuleType::kCommonJS);
  EXPECT_EQ(moduleTypeFor(rules, "data/config.json"), ModuleType::kJson);
  EXPECT_EQ(moduleTypeFor(rules, "schema.sql"), std::nullopt);
  EXPECT_EQ(moduleTypeFor(rules, "index.ts"), std::nullopt);
}

TEST(ModuleRules, RuleTypesAreWranglersFive) {
  EXPECT_EQ(parseRuleType("ESModule"), ModuleType::kESModule);
  EXPECT_EQ(parseRuleType("CommonJS"), ModuleType::kCommonJS);
  EXPECT_EQ(parseRuleType("Text"), ModuleType::kText);
  EXPECT_EQ(parseRuleType("Data"), ModuleType::kData);
  EXPECT_EQ(parseRuleType("CompiledWasm"), ModuleType::kCompiledWasm);
  EXPECT_EQ(parseRuleType("JSON"), std::nullopt);
  EXPECT_EQ(parseRuleType("text"), std::nullopt);
  EXPECT_EQ(moduleTypeName(ModuleType::kJson), "JSON");
}

}  // namespace
}  // namespace duro::config
