// Implementation of readToml (toml_reader.h): toml++ nodes to ConfigValue, restoring document
// order from source positions because toml::table iterates its keys sorted by name.
#include "config/toml_reader.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

namespace duro::config {
namespace {

ConfigValue convert(const toml::node& node) {
  ConfigValue value;
  value.line = node.source().begin.line;
  switch (node.type()) {
    case toml::node_type::string:
      value.kind = ConfigValue::Kind::kString;
      value.text = node.as_string()->get();
      break;
    case toml::node_type::integer:
      value.kind = ConfigValue::Kind::kInteger;
      value.integer = node.as_integer()->get();
      break;
    case toml::node_type::floating_point:
      value.kind = ConfigValue::Kind::kFloat;
      value.number = node.as_floating_point()->get();
      break;
    case toml::node_type::boolean:
      value.kind = ConfigValue::Kind::kBool;
      value.boolean = node.as_boolean()->get();
      break;
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: {
      value.kind = ConfigValue::Kind::kDateTime;
      std::ostringstream text;
      if (const auto* d = node.as_date()) text << d->get();
      if (const auto* t = node.as_time()) text << t->get();
      if (const auto* dt = node.as_date_time()) text << dt->get();
      value.text = text.str();
      break;
    }
    case toml::node_type::array:
      value.kind = ConfigValue::Kind::kArray;
      for (const toml::node& item : *node.as_array()) value.items.push_back(convert(item));
      break;
    case toml::node_type::table: {
      value.kind = ConfigValue::Kind::kTable;
      struct Entry {
        std::tuple<uint32_t, uint32_t> position;
        std::string key;
        const toml::node* node;
      };
      std::vector<Entry> entries;
      for (const auto& [key, member] : *node.as_table()) {
        const toml::source_position& begin = key.source().begin;
        // Keys without a position (none expected from the parser) go last, in name order.
        uint32_t line = begin.line == 0 ? UINT32_MAX : begin.line;
        entries.push_back({{line, begin.column}, std::string(key.str()), &member});
      }
      std::stable_sort(entries.begin(), entries.end(),
                       [](const Entry& a, const Entry& b) { return a.position < b.position; });
      for (const Entry& entry : entries) value.members.push_back({entry.key, convert(*entry.node)});
      break;
    }
    case toml::node_type::none: break;
  }
  return value;
}

}  // namespace

Result<ConfigValue> readToml(std::string_view text, std::string_view label) {
  try {
    toml::table root = toml::parse(text, label);
    ConfigValue value = convert(root);
    value.line = 0;  // the root table has no line of its own
    return value;
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Status::invalidArgument(std::string(label) + ":" + std::to_string(at.line) + ":" +
                                   std::to_string(at.column) +
                                   ": TOML syntax error: " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::invalidArgument(std::string(label) + ": cannot parse TOML: " + e.what());
  }
}

}  // namespace duro::config
