// Module rules: which module type each file of a Worker gets ([[rules]] in wrangler.toml), the
// default rules wrangler adds after the user's, and wrangler's `fallthrough` semantics.
// Plain values and pure functions; errors in the config itself are reported by loadWorkerConfig.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duro::config {

// The module types of the Workers upload format. kJson is duro's own: wrangler bundles imported
// .json files with esbuild and has no "JSON" rule type, so duro adds a default rule for them.
enum class ModuleType { kESModule, kCommonJS, kText, kData, kCompiledWasm, kJson };

struct ModuleRule {
  ModuleType type;
  std::vector<std::string> globs;
  // If true, later rules of the same type still apply; if false (the default), this rule is the
  // last of its type and later ones are dropped (see applyFallthrough).
  bool fallthrough = false;
};

// "ESModule", "CommonJS", "Text", "Data", "CompiledWasm", "JSON".
std::string_view moduleTypeName(ModuleType type);

// The rule types a config file may name: wrangler's five. ("JSON" is not one of them, and neither
// are wrangler's Python types, which loadWorkerConfig reports separately.)
std::optional<ModuleType> parseRuleType(std::string_view name);

// Wrangler's defaults, appended after the user's rules: Text for **/*.txt and **/*.html, Data for
// **/*.bin, CompiledWasm for **/*.wasm and **/*.wasm?module.
std::vector<ModuleRule> wranglerDefaultRules();

// duro's final fallbacks, standing in for what esbuild does with files no rule claims when wrangler
// bundles: ESModule for **/*.js and **/*.mjs, CommonJS for **/*.cjs, JSON for **/*.json. They
// always stay last and are never dropped by fallthrough.
std::vector<ModuleRule> duroDefaultRules();

// A rule as written in the config: `fallthrough` remembers whether it was given at all, because
// wrangler warns about dropped rules only when it was not.
struct ConfiguredRule {
  ModuleRule rule;
  std::optional<bool> fallthrough;
  std::string where;  // "rules[2]" or "the default rule", for warnings
};

// Wrangler's parseRules: walks the rules in order; a rule without fallthrough = true ends its type,
// so later rules of that type are removed. Returns the rules that remain, and for each rule that
// ended its type while fallthrough was not given, one warning naming what it dropped.
struct FallthroughResult {
  std::vector<ModuleRule> rules;
  std::vector<std::string> warnings;
};
FallthroughResult applyFallthrough(const std::vector<ConfiguredRule>& rules);

// The type of the first rule with a glob matching `relativePath` ('/'-separated, relative to the
// module root; a leading "./" is ignored). nullopt if no rule matches.
std::optional<ModuleType> moduleTypeFor(std::span<const ModuleRule> rules,
                                        std::string_view relativePath);

}  // namespace duro::config
