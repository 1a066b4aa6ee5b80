// Implementation of loadWorkerConfig, findConfigFile and moduleTypeFor (worker_config.h).
//
// Flow: read the file -> parse it into a ConfigValue tree (toml_reader / jsonc_reader) ->
// ConfigReader walks the top-level keys in file order, checking types and filling WorkerConfig,
// collecting errors and warnings as it goes -> cross-key checks that need the whole file (main
// exists, binding names unique, bound classes vs migrations) -> rules assembled with the defaults.
// All errors are collected so that one run shows every problem; any error fails the load.
//
// What follows wrangler, and where duro differs:
//   - Key names, types and defaults are wrangler's (workers-sdk config/validation.ts); the module
//     rule defaults and fallthrough pass are deployment-bundle/rules.ts; the module root is
//     base_dir or the folder of main, as in deployment-bundle/entry.ts.
//   - Wrangler only warns about some things duro rejects, because duro must act on them:
//     migrations that create an existing class or rename/delete a missing one, bindings to deleted
//     classes, binding names that are not JavaScript identifiers (Cloudflare rejects the first ones
//     at deploy time; the last could not be reached as env.<name>).
//   - A missing compatibility_date is a warning, as in `wrangler dev`.
#include "config/worker_config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <tuple>

#include "config/config_value.h"
#include "config/jsonc_reader.h"
#include "config/toml_reader.h"

namespace duro::config {
namespace fs = std::filesystem;

namespace {

// Top-level keys wrangler knows (current and deprecated) that duro does not implement. Each one
// present gives a "not supported by duro" warning; anything else unknown gives "unknown key".
constexpr std::string_view kUnsupportedTopLevelKeys[] = {
    "account_id",
    "ai",
    "alias",
    "analytics_engine_datasets",
    "assets",
    "browser",
    "build",
    "cloudchamber",
    "compliance_region",
    "containers",
    "d1_databases",
    "data_blobs",
    "define",
    "dev",
    "dispatch_namespaces",
    "env",
    "experimental_assets",
    "experimental_services",
    "exports",
    "find_additional_modules",
    "first_party_worker",
    "hyperdrive",
    "images",
    "jsx_factory",
    "jsx_fragment",
    "keep_names",
    "keep_vars",
    "kv-namespaces",
    "kv_namespaces",
    "legacy_assets",
    "legacy_env",
    "limits",
    "logfwdr",
    "logpush",
    "media",
    "miniflare",
    "minify",
    "mtls_certificates",
    "no_bundle",
    "node_compat",
    "observability",
    "pages_build_output_dir",
    "pipelines",
    "placement",
    "preserve_file_names",
    "preview_urls",
    "python_modules",
    "queues",
    "r2_buckets",
    "ratelimits",
    "route",
    "routes",
    "secrets",
    "secrets_store_secrets",
    "send_email",
    "send_metrics",
    "services",
    "site",
    "streaming_tail_consumers",
    "tail_consumers",
    "text_blobs",
    "triggers",
    "tsconfig",
    "type",
    "unsafe",
    "unsafe_hello_world",
    "upload_source_maps",
    "usage_model",
    "vectorize",
    "version_metadata",
    "vpc_services",
    "wasm_modules",
    "webpack_config",
    "worker_loaders",
    "workers_dev",
    "workflows",
    "zone_id",
};

// Rule types wrangler accepts for Python Workers; duro runs JavaScript only.
constexpr std::string_view kPythonRuleTypes[] = {"PythonModule", "PythonRequirement"};

constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error", "off"};

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view item) {
  return std::find(std::begin(list), std::end(list), item) != std::end(list);
}

// "parent.key", quoting keys that are not plain words so that paths stay unambiguous.
std::string childPath(std::string_view parent, std::string_view key) {
  bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '$';
  });
  std::string path(parent);
  if (!path.empty()) path += '.';
  if (plain) {
    path += key;
  } else {
    appendJsonString(path, key);
  }
  return path;
}

std::string indexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string inQuotes(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  return out;
}

// An ASCII JavaScript identifier: env.<name> must be reachable with a dot.
bool isJsIdentifier(std::string_view name) {
  if (name.empty()) return false;
  auto start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
  };
  if (!start(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

// YYYY-MM-DD naming a day that exists.
bool isValidDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto number = [&](size_t at, size_t len) {
    int n = 0;
    for (size_t i = at; i < at + len; ++i) n = n * 10 + (text[i] - '0');
    return n;
  };
  int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days;
}

// Why `text` is not a usable HOST:PORT, or nullopt if it is. Same rules as `duro serve --listen`,
// except that an IPv6 host must be in brackets (otherwise "::1:80" is ambiguous).
std::optional<std::string> listenProblem(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return "expected HOST:PORT, e.g. \"127.0.0.1:8787\", got " + inQuotes(text);
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return "expected HOST:PORT with an IPv6 host in brackets, e.g. \"[::1]:8787\", got " +
             inQuotes(text);
    }
  } else if (host.find(':') != std::string_view::npos) {
    return "an IPv6 host must be in brackets, e.g. \"[::1]:8787\", got " + inQuotes(text);
  }
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535) {
    return "the port must be a number from 0 to 65535, got " + inQuotes(text);
  }
  return std::nullopt;
}

// Walks the parsed file and fills a WorkerConfig. One instance per load.
class ConfigReader {
 public:
  ConfigReader(std::string label, SourceFormat format, WorkerConfig& config)
      : label_(std::move(label)), format_(format), config_(config) {}

  void read(const ConfigValue& root) {
    for (const auto& [key, value] : root.members) readTopLevel(key, value);
    finishMain();
    finishBindings();
    finishVars();
    finishRules();
    if (config_.compatibilityDate.empty() && !sawCompatibilityDate_) {
      warn(nullptr, "no compatibility_date is set; duro uses its default date");
    }
  }

  std::vector<std::string>& errors() { return errors_; }

 private:
  // --- messages -------------------------------------------------------------------------------

  std::string where(const ConfigValue* at) const {
    return at != nullptr && at->line > 0 ? label_ + ":" + std::to_string(at->line) : label_;
  }
  void error(const ConfigValue* at, std::string_view path, std::string_view what) {
    errors_.push_back(where(at) + ": " + std::string(path) + ": " + std::string(what));
  }
  void warn(const ConfigValue* at, std::string_view what) {
    config_.warnings.push_back(where(at) + ": " + std::string(what));
  }
  void unknownKey(const ConfigValue& at, std::string_view path) {
    warn(&at, "unknown key " + inQuotes(path));
  }
  void unsupportedKey(const ConfigValue& at, std::string_view path) {
    warn(&at, "key " + inQuotes(path) + " is not supported by duro and is ignored");
  }
  void wrongType(const ConfigValue& at, std::string_view path, std::string_view expected) {
    std::string what =
        "expected " + std::string(expected) + ", got " + std::string(kindName(at.kind, format_));
    error(&at, path, what);
  }
  std::string_view tableWord() const { return kindName(ConfigValue::Kind::kTable, format_); }

  // --- typed access ---------------------------------------------------------------------------

  std::optional<std::string> asString(const ConfigValue& v, std::string_view path) {
    if (v.isString()) return v.text;
    wrongType(v, path, "a string");
    return std::nullopt;
  }
  std::optional<bool> asBool(const ConfigValue& v, std::string_view path) {
    if (v.isBool()) return v.boolean;
    wrongType(v, path, "a boolean");
    return std::nullopt;
  }
  bool isTable(const ConfigValue& v, std::string_view path) {
    if (v.isTable()) return true;
    wrongType(v, path, tableWord());
    return false;
  }
  bool isArray(const ConfigValue& v, std::string_view path) {
    if (v.isArray()) return true;
    wrongType(v, path, "an array");
    return false;
  }
  // An array of strings; a wrong element is reported and skipped.
  std::vector<std::string> asStrings(const ConfigValue& v, std::string_view path) {
    std::vector<std::string> strings;
    if (!isArray(v, path)) return strings;
    for (size_t i = 0; i < v.items.size(); ++i) {
      if (auto s = asString(v.items[i], indexPath(path, i))) strings.push_back(std::move(*s));
    }
    return strings;
  }
  std::optional<int64_t> asIntegerIn(const ConfigValue& v, std::string_view path, int64_t min,
                                     int64_t max) {
    if (!v.isIntegral()) {
      wrongType(v, path, "an integer");
      return std::nullopt;
    }
    int64_t n = v.asInteger();
    if (n < min || n > max) {
      error(&v, path,
            "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                std::to_string(n));
      return std::nullopt;
    }
    return n;
  }

  fs::path resolve(std::string_view relative) const {
    fs::path path = (config_.baseDir / fs::path(relative)).lexically_normal();
    // "dir/." normalizes to "dir/"; drop the trailing separator so that paths compare equal.
    if (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
    return path;
  }

  // --- top level ------------------------------------------------------------------------------

  void readTopLevel(const std::string& key, const ConfigValue& value) {
    if (key == "name") {
      if (auto s = asString(value, key)) config_.name = *s;
    } else if (key == "main") {
      mainNode_ = &value;
      if (auto s = asString(value, key)) {
        if (s->empty()) {
          error(&value, key, "must not be empty");
        } else {
          mainText_ = *s;
        }
      }
    } else if (key == "compatibility_date") {
      sawCompatibilityDate_ = true;
      readCompatibilityDate(value);
    } else if (key == "compatibility_flags") {
      config_.compatibilityFlags = asStrings(value, key);
    } else if (key == "base_dir") {
      if (auto s = asString(value, key)) {
        baseDirNode_ = &value;
        config_.moduleRoot = resolve(*s);
      }
    } else if (key == "durable_objects") {
      readDurableObjects(value);
    } else if (key == "migrations") {
      readMigrations(value);
    } else if (key == "vars") {
      readVars(value);
    } else if (key == "rules") {
      readRules(value);
    } else if (key == "duro") {
      readDuro(value);
    } else if (key == "$schema") {
      // The JSON schema reference that create-cloudflare writes into wrangler.jsonc: an editor
      // hint with no effect on the Worker, so there is nothing to warn about.
    } else if (contains(kUnsupportedTopLevelKeys, key)) {
      unsupportedKey(value, childPath("", key));
    } else {
      unknownKey(value, childPath("", key));
    }
  }

  void readCompatibilityDate(const ConfigValue& value) {
    const char* key = "compatibility_date";
    if (value.kind == ConfigValue::Kind::kDateTime) {
      // An unquoted TOML date: wrangler rejects it too (it wants a string).
      error(&value, key,
            "expected a string, got a date/time (write it in quotes: compatibility_date = \"" +
                value.text + "\")");
      return;
    }
    auto text = asString(value, key);
    if (!text) return;
    if (!isValidDate(*text)) {
      error(&value, key, inQuotes(*text) + " is not a valid date in the form YYYY-MM-DD");
      return;
    }
    config_.compatibilityDate = *text;
  }

  // --- durable_objects ------------------------------------------------------------------------

  // Where a binding's name and class came from, for the checks in finishBindings.
  struct BindingSource {
    const ConfigValue* name;
    const ConfigValue* className;
    std::string path;
  };

  void readDurableObjects(const ConfigValue& value) {
    if (!isTable(value, "durable_objects")) return;
    for (const auto& [key, member] : value.members) {
      std::string path = childPath("durable_objects", key);
      if (key != "bindings") {
        unknownKey(member, path);
        continue;
      }
      if (!isArray(member, path)) continue;
      for (size_t i = 0; i < member.items.size(); ++i) {
        readBinding(member.items[i], indexPath(path, i));
      }
    }
  }

  void readBinding(const ConfigValue& value, const std::string& path) {
    if (!isTable(value, path)) return;
    DurableObjectBinding binding;
    BindingSource source{nullptr, nullptr, path};
    bool ok = true;
    for (const auto& [key, member] : value.members) {
      std::string memberPath = childPath(path, key);
      if (key == "name") {
        source.name = &member;
        auto s = asString(member, memberPath);
        if (s && !isJsIdentifier(*s)) {
          error(&member, memberPath,
                inQuotes(*s) +
                    " is not a valid JavaScript identifier (letters, digits, _ and $, "
                    "not starting with a digit)");
          s.reset();
        }
        if (s) binding.name = *s;
        ok = ok && s.has_value();
      } else if (key == "class_name") {
        source.className = &member;
        auto s = asString(member, memberPath);
        if (s && s->empty()) {
          error(&member, memberPath, "must not be empty");
          s.reset();
        }
        if (s) binding.className = *s;
        ok = ok && s.has_value();
      } else if (key == "script_name") {
        auto s = asString(member, memberPath);
        if (s) {
          binding.scriptName = *s;
          warn(&member, "key " + inQuotes(memberPath) +
                            " is not supported by duro (Durable Objects of other Workers); "
                            "this binding will not work");
        }
        ok = ok && s.has_value();
      } else if (key == "environment") {
        unsupportedKey(member, memberPath);
      } else {
        unknownKey(member, memberPath);
      }
    }
    if (source.name == nullptr) {
      error(&value, childPath(path, "name"), "missing (the binding's name in env)");
      ok = false;
    }
    if (source.className == nullptr) {
      error(&value, childPath(path, "class_name"), "missing (the Durable Object class to bind)");
      ok = false;
    }
    if (!ok) return;
    config_.durableObjects.push_back(std::move(binding));
    bindingSources_.push_back(std::move(source));
  }

  // --- migrations -----------------------------------------------------------------------------

  void readMigrations(const ConfigValue& value) {
    if (!isArray(value, "migrations")) return;
    std::map<std::string, std::string> tags;  // tag -> path of the migration that has it
    for (size_t i = 0; i < value.items.size(); ++i) {
      const ConfigValue& item = value.items[i];
      std::string path = indexPath("migrations", i);
      if (!isTable(item, path)) continue;
      Migration migration;
      bool sawTag = false;
      // The class lists keep their nodes so that errors while applying point at the right line.
      std::vector<std::pair<const ConfigValue*, std::string>> created, createdSqlite, deleted;
      std::vector<std::tuple<const ConfigValue*, std::string, std::string>> renamed;
      for (const auto& [key, member] : item.members) {
        std::string memberPath = childPath(path, key);
        if (key == "tag") {
          sawTag = true;  // a tag of the wrong type is reported as such, not also as missing
          if (auto tag = asString(member, memberPath)) {
            migration.tag = *tag;
            if (auto [at, inserted] = tags.emplace(*tag, path); !inserted) {
              error(&member, memberPath,
                    "tag " + inQuotes(*tag) + " is already used by " + at->second);
            }
          }
        } else if (key == "new_classes" || key == "new_sqlite_classes" ||
                   key == "deleted_classes") {
          auto& nodes = key == "new_classes"          ? created
                        : key == "new_sqlite_classes" ? createdSqlite
                                                      : deleted;
          if (!isArray(member, memberPath)) continue;
          for (size_t j = 0; j < member.items.size(); ++j) {
            if (auto name = asString(member.items[j], indexPath(memberPath, j))) {
              nodes.emplace_back(&member.items[j], *name);
            }
          }
        } else if (key == "renamed_classes") {
          if (!isArray(member, memberPath)) continue;
          for (size_t j = 0; j < member.items.size(); ++j) {
            if (auto rename = readRename(member.items[j], indexPath(memberPath, j))) {
              renamed.emplace_back(&member.items[j], rename->first, rename->second);
            }
          }
        } else if (key == "transferred_classes") {
          unsupportedKey(member, memberPath);
        } else {
          unknownKey(member, memberPath);
        }
      }
      if (!sawTag) {
        error(&item, childPath(path, "tag"), "missing (each migration needs a unique tag)");
      }
      // Apply in the order Cloudflare documents the fields: create, rename, delete.
      for (const auto& [node, name] : created) {
        if (create(*node, path + ".new_classes", name, StorageBackend::kKeyValue)) {
          migration.newClasses.push_back(name);
        }
      }
      for (const auto& [node, name] : createdSqlite) {
        if (create(*node, path + ".new_sqlite_classes", name, StorageBackend::kSqlite)) {
          migration.newSqliteClasses.push_back(name);
        }
      }
      for (const auto& [node, from, to] : renamed) {
        if (rename(*node, path + ".renamed_classes", from, to, migration.tag)) {
          migration.renamedClasses.emplace_back(from, to);
        }
      }
      for (const auto& [node, name] : deleted) {
        if (remove(*node, path + ".deleted_classes", name, migration.tag)) {
          migration.deletedClasses.push_back(name);
        }
      }
      config_.migrations.push_back(std::move(migration));
    }
  }

  std::optional<std::pair<std::string, std::string>> readRename(const ConfigValue& value,
                                                                const std::string& path) {
    if (!isTable(value, path)) return std::nullopt;
    std::optional<std::string> from, to;
    bool typesOk = true;
    for (const auto& [key, member] : value.members) {
      std::string memberPath = childPath(path, key);
      if (key == "from" || key == "to") {
        auto s = asString(member, memberPath);
        typesOk = typesOk && s.has_value();
        (key == "from" ? from : to) = std::move(s);
      } else {
        unknownKey(member, memberPath);
      }
    }
    if (!typesOk) return std::nullopt;
    if (!from || !to) {
      error(&value, path, "expected both \"from\" and \"to\"");
      return std::nullopt;
    }
    return std::make_pair(*from, *to);
  }

  bool create(const ConfigValue& node, const std::string& path, const std::string& name,
              StorageBackend backend) {
    if (config_.classStorage.count(name) > 0) {
      error(&node, path,
            "class " + inQuotes(name) + " already exists (created by an earlier migration)");
      return false;
    }
    config_.classStorage[name] = backend;
    goneClasses_.erase(name);
    return true;
  }

  bool rename(const ConfigValue& node, const std::string& path, const std::string& from,
              const std::string& to, const std::string& tag) {
    auto existing = config_.classStorage.find(from);
    if (existing == config_.classStorage.end()) {
      error(&node, path, "cannot rename " + inQuotes(from) + ": no earlier migration creates it");
      return false;
    }
    if (config_.classStorage.count(to) > 0) {
      error(&node, path,
            "cannot rename " + inQuotes(from) + " to " + inQuotes(to) + ": " + inQuotes(to) +
                " already exists");
      return false;
    }
    StorageBackend backend = existing->second;
    config_.classStorage.erase(existing);
    config_.classStorage[to] = backend;
    goneClasses_.erase(to);
    goneClasses_[from] = "was renamed to " + inQuotes(to) + " by migration " + inQuotes(tag);
    return true;
  }

  bool remove(const ConfigValue& node, const std::string& path, const std::string& name,
              const std::string& tag) {
    if (config_.classStorage.erase(name) == 0) {
      error(&node, path, "cannot delete " + inQuotes(name) + ": no earlier migration creates it");
      return false;
    }
    goneClasses_[name] = "was deleted by migration " + inQuotes(tag);
    return true;
  }

  // --- vars -----------------------------------------------------------------------------------

  void readVars(const ConfigValue& value) {
    if (!isTable(value, "vars")) return;
    for (const auto& [key, member] : value.members) {
      Var var;
      var.name = key;
      var.isText = member.isString();
      var.value = var.isText ? member.text : toJsonText(member);
      config_.vars.push_back(std::move(var));
      varNodes_.push_back(&member);
    }
  }

  // --- rules ----------------------------------------------------------------------------------

  void readRules(const ConfigValue& value) {
    if (!isArray(value, "rules")) return;
    for (size_t i = 0; i < value.items.size(); ++i) {
      const ConfigValue& item = value.items[i];
      std::string path = indexPath("rules", i);
      if (!isTable(item, path)) continue;
      ConfiguredRule configured;
      configured.where = path;
      bool ok = true, hasType = false, hasGlobs = false, python = false;
      for (const auto& [key, member] : item.members) {
        std::string memberPath = childPath(path, key);
        if (key == "type") {
          hasType = true;
          auto name = asString(member, memberPath);
          if (!name) {
            ok = false;
          } else if (auto type = parseRuleType(*name)) {
            configured.rule.type = *type;
          } else if (contains(kPythonRuleTypes, *name)) {
            python = true;
            warn(&member,
                 memberPath + ": " + inQuotes(*name) +
                     " rules are not supported by duro (Python Workers); the rule is ignored");
          } else {
            error(&member, memberPath,
                  "unknown module type " + inQuotes(*name) +
                      " (expected ESModule, CommonJS, CompiledWasm, Text or Data)");
            ok = false;
          }
        } else if (key == "globs") {
          hasGlobs = true;
          size_t before = errors_.size();
          configured.rule.globs = asStrings(member, memberPath);
          ok = ok && errors_.size() == before;
        } else if (key == "fallthrough") {
          configured.fallthrough = asBool(member, memberPath);
          if (!configured.fallthrough) ok = false;
        } else {
          unknownKey(member, memberPath);
        }
      }
      if (!hasType) {
        error(&item, childPath(path, "type"),
              "missing (ESModule, CommonJS, CompiledWasm, Text or Data)");
        ok = false;
      }
      if (!hasGlobs) {
        error(&item, childPath(path, "globs"), "missing (e.g. globs = [\"**/*.txt\"])");
        ok = false;
      }
      if (!ok || python) continue;
      configured.rule.fallthrough = configured.fallthrough.value_or(false);
      userRules_.push_back(std::move(configured));
    }
  }

  // --- [duro] ---------------------------------------------------------------------------------

  void readDuro(const ConfigValue& value) {
    if (!isTable(value, "duro")) return;
    DuroSettings& duro = config_.duro;
    for (const auto& [key, member] : value.members) {
      std::string path = childPath("duro", key);
      if (key == "listen") {
        if (auto s = asString(member, path)) {
          if (auto problem = listenProblem(*s)) {
            error(&member, path, *problem);
          } else {
            duro.listen = *s;
          }
        }
      } else if (key == "data") {
        if (auto s = asString(member, path)) {
          if (s->empty()) {
            error(&member, path, "must not be empty");
          } else {
            duro.data = resolve(*s);
          }
        }
      } else if (key == "threads") {
        if (auto n = asIntegerIn(member, path, 1, 1024)) duro.threads = static_cast<unsigned>(*n);
      } else if (key == "idle_timeout_ms") {
        duro.idleTimeoutMs = asIntegerIn(member, path, 1, 86400000);
      } else if (key == "cpu_limit_ms") {
        duro.cpuLimitMs = asIntegerIn(member, path, 1, 3600000);
      } else if (key == "heap_limit_mb") {
        duro.heapLimitMb = asIntegerIn(member, path, 16, 65536);
      } else if (key == "shutdown_timeout_ms") {
        duro.shutdownTimeoutMs = asIntegerIn(member, path, 0, 3600000);
      } else if (key == "max_queue") {
        setUnsigned(duro.maxQueue, asIntegerIn(member, path, 1, 10000000));
      } else if (key == "max_header_bytes") {
        setUnsigned(duro.maxHeaderBytes, asIntegerIn(member, path, 1024, int64_t{1} << 24));
      } else if (key == "max_body_bytes") {
        setUnsigned(duro.maxBodyBytes, asIntegerIn(member, path, 0, int64_t{1} << 32));
      } else if (key == "cache_bytes") {
        setUnsigned(duro.cacheBytes, asIntegerIn(member, path, 0, int64_t{1} << 40));
      } else if (key == "max_database_bytes") {
        setUnsigned(duro.maxDatabaseBytes, asIntegerIn(member, path, 65536, int64_t{1} << 44));
      } else if (key == "max_open_databases") {
        setUnsigned(duro.maxOpenDatabases, asIntegerIn(member, path, 1, 1000000));
      } else if (key == "log_level") {
        if (auto s = asString(member, path)) {
          if (contains(kLogLevels, *s)) {
            duro.logLevel = *s;
          } else {
            error(&member, path,
                  "unknown log level " + inQuotes(*s) +
                      " (expected debug, info, warn, error or off)");
          }
        }
      } else if (key == "trust_proxy") {
        duro.trustProxy = asBool(member, path);
      } else {
        unknownKey(member, path);
      }
    }
  }

  static void setUnsigned(std::optional<uint64_t>& field, std::optional<int64_t> value) {
    if (value) field = static_cast<uint64_t>(*value);
  }

  // --- checks that need the whole file --------------------------------------------------------

  void finishMain() {
    if (mainNode_ == nullptr) {
      error(nullptr, "main",
            "missing: duro needs the Worker's entry module, e.g. main = \"src/index.js\"");
    } else if (!mainText_.empty()) {
      config_.main = resolve(mainText_);
      std::error_code ec;
      if (!fs::exists(config_.main, ec)) {
        error(mainNode_, "main", inQuotes(config_.main.string()) + " does not exist");
      } else if (!fs::is_regular_file(config_.main, ec)) {
        error(mainNode_, "main", inQuotes(config_.main.string()) + " is not a file");
      }
    }
    if (baseDirNode_ == nullptr && !config_.main.empty()) {
      config_.moduleRoot = config_.main.parent_path();
    }
  }

  void finishBindings() {
    std::map<std::string, std::string, std::less<>> seen;  // name -> path of its binding
    for (size_t i = 0; i < config_.durableObjects.size(); ++i) {
      const DurableObjectBinding& binding = config_.durableObjects[i];
      const BindingSource& source = bindingSources_[i];
      if (auto [at, inserted] = seen.emplace(binding.name, source.path); !inserted) {
        error(source.name, childPath(source.path, "name"),
              inQuotes(binding.name) + " is already used by " + at->second);
      }
      // A class of another Worker needs no migration here.
      if (binding.scriptName) continue;
      if (config_.classStorage.count(binding.className) > 0) continue;
      std::string classPath = childPath(source.path, "class_name");
      if (auto gone = goneClasses_.find(binding.className); gone != goneClasses_.end()) {
        error(source.className, classPath,
              "class " + inQuotes(binding.className) + " " + gone->second);
        continue;
      }
      warn(source.className,
           classPath + ": class " + inQuotes(binding.className) +
               " is not created by any migration; duro keeps it as a KV-backed class (add a "
               "migration with new_sqlite_classes or new_classes to choose)");
      config_.classStorage[binding.className] = StorageBackend::kKeyValue;
    }
    bindingNames_ = std::move(seen);
  }

  void finishVars() {
    for (size_t i = 0; i < config_.vars.size(); ++i) {
      const std::string& name = config_.vars[i].name;
      if (auto binding = bindingNames_.find(name); binding != bindingNames_.end()) {
        error(varNodes_[i], childPath("vars", name),
              "the name " + inQuotes(name) + " is already used by " + binding->second);
      }
    }
  }

  void finishRules() {
    std::vector<ConfiguredRule> all = userRules_;
    for (ModuleRule& rule : wranglerDefaultRules()) {
      all.push_back({std::move(rule), std::nullopt, "the default rule"});
    }
    FallthroughResult result = applyFallthrough(all);
    for (std::string& warning : result.warnings) warn(nullptr, warning);
    config_.rules = std::move(result.rules);
    for (ModuleRule& rule : duroDefaultRules()) config_.rules.push_back(std::move(rule));
  }

  std::string label_;
  SourceFormat format_;
  WorkerConfig& config_;
  std::vector<std::string> errors_;
  const ConfigValue* mainNode_ = nullptr;
  std::string mainText_;
  const ConfigValue* baseDirNode_ = nullptr;
  bool sawCompatibilityDate_ = false;
  // Parallel to config_.durableObjects / config_.vars: where each came from, for later messages.
  std::vector<BindingSource> bindingSources_;
  std::vector<const ConfigValue*> varNodes_;
  // Binding name -> path of its binding, once finishBindings has checked them.
  std::map<std::string, std::string, std::less<>> bindingNames_;
  // The migrations are applied as they are read; this says what happened to each class that no
  // longer exists ("was deleted by migration \"v3\""), for messages about bindings to it.
  std::map<std::string, std::string, std::less<>> goneClasses_;
  std::vector<ConfiguredRule> userRules_;
};

Result<std::string> readWholeFile(const fs::path& file, const std::string& label) {
  std::error_code ec;
  fs::file_status status = fs::status(file, ec);
  if (status.type() == fs::file_type::not_found) {
    return Status::notFound(label + ": config file does not exist");
  }
  if (status.type() == fs::file_type::directory) {
    return Status::invalidArgument(label + ": is a folder, not a config file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::invalidArgument(label + ": cannot read config file: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status::invalidArgument(label + ": cannot read config file: " + std::strerror(errno));
  }
  return text.str();
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

std::optional<StorageBackend> WorkerConfig::storageBackendOf(std::string_view className) const {
  auto it = classStorage.find(className);
  if (it == classStorage.end()) return std::nullopt;
  return it->second;
}

Result<WorkerConfig> loadWorkerConfig(const fs::path& file) {
  const std::string label = file.string();
  std::string extension = file.extension().string();
  SourceFormat format;
  if (extension == ".toml") {
    format = SourceFormat::kToml;
  } else if (extension == ".json" || extension == ".jsonc") {
    format = SourceFormat::kJson;
  } else {
    return Status::invalidArgument(label + ": unknown config file type " + inQuotes(extension) +
                                   " (expected .toml, .json or .jsonc)");
  }
  Result<std::string> text = readWholeFile(file, label);
  if (!text) return text.status();

  WorkerConfig config;
  std::error_code ec;
  config.file = fs::absolute(file, ec).lexically_normal();
  if (ec) return Status::invalidArgument(label + ": cannot resolve the path: " + ec.message());
  config.baseDir = config.file.parent_path();

  Result<ConfigValue> root = format == SourceFormat::kToml
                                 ? readToml(*text, label)
                                 : readJsonc(*text, label, config.warnings);
  if (!root) return root.status();
  if (!root->isTable()) {
    return Status::invalidArgument(label + ": expected an object at the top level, got " +
                                   std::string(kindName(root->kind, format)));
  }
  ConfigReader reader(label, format, config);
  reader.read(*root);
  if (!reader.errors().empty()) return Status::invalidArgument(joinLines(reader.errors()));
  return config;
}

Result<fs::path> findConfigFile(const fs::path& dir) {
  static constexpr const char* kNames[] = {"wrangler.json", "wrangler.jsonc", "wrangler.toml",
                                           "duro.toml"};
  for (const char* name : kNames) {
    fs::path candidate = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return Status::notFound("no config file in " + inQuotes(dir.string()) +
                          " (looked for wrangler.json, wrangler.jsonc, wrangler.toml, duro.toml)");
}

std::optional<ModuleType> moduleTypeFor(const WorkerConfig& config, std::string_view relativePath) {
  return moduleTypeFor(std::span<const ModuleRule>(config.rules), relativePath);
}

}  // namespace duro::config
