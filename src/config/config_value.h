// ConfigValue: the parsed config file as one format-neutral tree, so that TOML (toml++) and
// JSON/JSONC (nlohmann) files go through the same validation code and give the same messages.
// Internal to src/config. Members keep the file's order (toml++ tables are sorted maps, so the
// TOML reader restores document order from source positions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duro::config {

enum class SourceFormat { kToml, kJson };

struct ConfigMember;

struct ConfigValue {
  enum class Kind { kString, kInteger, kFloat, kBool, kDateTime, kNull, kArray, kTable };

  Kind kind = Kind::kNull;
  // 1-based line of the value in the file; 0 when unknown.
  uint32_t line = 0;
  // kString: the string. kDateTime: the TOML text of the date/time (JSON has no dates).
  std::string text;
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::vector<ConfigValue> items;     // kArray
  std::vector<ConfigMember> members;  // kTable, in file order

  bool isString() const { return kind == Kind::kString; }
  bool isTable() const { return kind == Kind::kTable; }
  bool isArray() const { return kind == Kind::kArray; }
  bool isBool() const { return kind == Kind::kBool; }
  // An integer, or a float with an integral value (JavaScript has one number type, so wrangler
  // does not tell 4 from 4.0 either).
  bool isIntegral() const;
  // The value of an integral number; only call when isIntegral().
  int64_t asInteger() const;
};

// One key of a table and its value.
struct ConfigMember {
  std::string key;
  ConfigValue value;
};

// "a string", "an integer", "a table" (TOML) / "an object" (JSON), ... for messages.
std::string_view kindName(ConfigValue::Kind kind, SourceFormat format);

// The value as JSON text the way JavaScript's JSON.stringify writes it (wrangler hands non-string
// [vars] to the Worker as JSON): objects keep their order, integral floats print without ".0",
// NaN and infinities become null, TOML dates become strings.
std::string toJsonText(const ConfigValue& value);

// A double the way JavaScript's Number.prototype.toString writes it ("1.5", "1e+21", "1e-7").
std::string formatJsNumber(double value);

// Appends `text` as a JSON string literal (with quotes), escaping like JSON.stringify.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace duro::config
