// Implementation of the module rules (module_rules.h): defaults, wrangler's fallthrough pass and
// first-match lookup.
#include "config/module_rules.h"

#include <map>

#include "config/glob.h"

namespace duro::config {

std::string_view moduleTypeName(ModuleType type) {
  switch (type) {
    case ModuleType::kESModule: return "ESModule";
    case ModuleType::kCommonJS: return "CommonJS";
    case ModuleType::kText: return "Text";
    case ModuleType::kData: return "Data";
    case ModuleType::kCompiledWasm: return "CompiledWasm";
    case ModuleType::kJson: return "JSON";
  }
  return "?";
}

std::optional<ModuleType> parseRuleType(std::string_view name) {
  for (ModuleType type : {ModuleType::kESModule, ModuleType::kCommonJS, ModuleType::kText,
                          ModuleType::kData, ModuleType::kCompiledWasm}) {
    if (moduleTypeName(type) == name) return type;
  }
  return std::nullopt;
}

std::vector<ModuleRule> wranglerDefaultRules() {
  return {
      {ModuleType::kText, {"**/*.txt", "**/*.html"}, false},
      {ModuleType::kData, {"**/*.bin"}, false},
      {ModuleType::kCompiledWasm, {"**/*.wasm", "**/*.wasm?module"}, false},
  };
}

std::vector<ModuleRule> duroDefaultRules() {
  return {
      {ModuleType::kESModule, {"**/*.js", "**/*.mjs"}, false},
      {ModuleType::kCommonJS, {"**/*.cjs"}, false},
      {ModuleType::kJson, {"**/*.json"}, false},
  };
}

namespace {

std::string describe(const ConfiguredRule& configured) {
  std::string text =
      configured.where + " (" + std::string(moduleTypeName(configured.rule.type)) + ": ";
  for (size_t i = 0; i < configured.rule.globs.size(); ++i) {
    if (i > 0) text += ", ";
    text += configured.rule.globs[i];
  }
  return text + ")";
}

}  // namespace

FallthroughResult applyFallthrough(const std::vector<ConfiguredRule>& rules) {
  FallthroughResult result;
  // For each type that has ended: the index of the rule that ended it, and what it dropped.
  std::map<ModuleType, size_t> endedBy;
  std::map<size_t, std::vector<size_t>> dropped;
  for (size_t i = 0; i < rules.size(); ++i) {
    const ConfiguredRule& configured = rules[i];
    ModuleType type = configured.rule.type;
    if (auto ended = endedBy.find(type); ended != endedBy.end()) {
      dropped[ended->second].push_back(i);
      continue;
    }
    result.rules.push_back(configured.rule);
    if (configured.fallthrough != true) endedBy[type] = i;
  }
  for (const auto& [ender, droppedRules] : dropped) {
    // An explicit fallthrough = false says the drop is intended; wrangler is quiet then.
    if (rules[ender].fallthrough.has_value()) continue;
    std::string warning = describe(rules[ender]) + " has no fallthrough = true, so these later " +
                          std::string(moduleTypeName(rules[ender].rule.type)) +
                          " rules are ignored: ";
    for (size_t j = 0; j < droppedRules.size(); ++j) {
      if (j > 0) warning += "; ";
      warning += describe(rules[droppedRules[j]]);
    }
    warning += ". Set fallthrough = true to keep them, or fallthrough = false to silence this";
    result.warnings.push_back(std::move(warning));
  }
  return result;
}

std::optional<ModuleType> moduleTypeFor(std::span<const ModuleRule> rules,
                                        std::string_view relativePath) {
  while (relativePath.starts_with("./")) relativePath.remove_prefix(2);
  for (const ModuleRule& rule : rules) {
    for (const std::string& glob : rule.globs) {
      if (globMatches(glob, relativePath)) return rule.type;
    }
  }
  return std::nullopt;
}

}  // namespace duro::config
