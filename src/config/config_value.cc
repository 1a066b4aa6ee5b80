// Implementation of ConfigValue helpers (config_value.h): kind names and the JSON.stringify-like
// serializer used for non-string [vars].
#include "config/config_value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace duro::config {

bool ConfigValue::isIntegral() const {
  if (kind == Kind::kInteger) return true;
  // 2^63 itself does not fit in int64_t, hence the strict bound.
  return kind == Kind::kFloat && std::isfinite(number) && std::floor(number) == number &&
         std::fabs(number) < 9223372036854775808.0;
}

int64_t ConfigValue::asInteger() const {
  return kind == Kind::kInteger ? integer : static_cast<int64_t>(number);
}

std::string_view kindName(ConfigValue::Kind kind, SourceFormat format) {
  switch (kind) {
    case ConfigValue::Kind::kString: return "a string";
    case ConfigValue::Kind::kInteger: return "an integer";
    case ConfigValue::Kind::kFloat: return "a float";
    case ConfigValue::Kind::kBool: return "a boolean";
    case ConfigValue::Kind::kDateTime: return "a date/time";
    case ConfigValue::Kind::kNull: return "null";
    case ConfigValue::Kind::kArray: return "an array";
    case ConfigValue::Kind::kTable: return format == SourceFormat::kToml ? "a table" : "an object";
  }
  return "a value";
}

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;  // UTF-8 passes through, as JSON.stringify leaves non-ASCII alone
        }
    }
  }
  out += '"';
}

std::string formatJsNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return "0";  // also -0, as JavaScript prints it
  // Shortest round-trip digits, then ECMAScript's Number::toString layout: with k digits and
  // decimal exponent n (value = 0.d1..dk * 10^n), fixed notation for -6 < n <= 21, else
  // exponential.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, end);  // "-1.2345e+02"
  std::string out;
  if (sci[0] == '-') {
    out += '-';
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = std::atoi(sci.c_str() + e + 1);
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

namespace {

void appendJson(std::string& out, const ConfigValue& value) {
  switch (value.kind) {
    case ConfigValue::Kind::kString:
    case ConfigValue::Kind::kDateTime: appendJsonString(out, value.text); break;
    case ConfigValue::Kind::kInteger: out += std::to_string(value.integer); break;
    case ConfigValue::Kind::kFloat:
      // JSON.stringify writes NaN and the infinities as null.
      out += std::isfinite(value.number) ? formatJsNumber(value.number) : "null";
      break;
    case ConfigValue::Kind::kBool: out += value.boolean ? "true" : "false"; break;
    case ConfigValue::Kind::kNull: out += "null"; break;
    case ConfigValue::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const ConfigValue& item : value.items) {
        if (!first) out += ',';
        first = false;
        appendJson(out, item);
      }
      out += ']';
      break;
    }
    case ConfigValue::Kind::kTable: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.members) {
        if (!first) out += ',';
        first = false;
        appendJsonString(out, key);
        out += ':';
        appendJson(out, member);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string toJsonText(const ConfigValue& value) {
  std::string out;
  appendJson(out, value);
  return out;
}

}  // namespace duro::config
