// readJsonc: parses a wrangler.json / wrangler.jsonc into a ConfigValue tree (internal to
// src/config). JSONC is JSON plus // and /* */ comments and trailing commas, as wrangler's
// jsonc-parser accepts; both .json and .jsonc files are read this way, as wrangler does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config_value.h"
#include "duro/status.h"

namespace duro::config {

// `label` names the file in messages. Syntax errors are kInvalidArgument
// "<label>:<line>:<column>: JSON syntax error: <what nlohmann says>". A key given twice keeps the
// last value (as JSON.parse does) and adds a warning to `warnings`.
Result<ConfigValue> readJsonc(std::string_view text, std::string_view label,
                              std::vector<std::string>& warnings);

// Replaces each comma that is followed only by whitespace and comments before a '}' or ']' with a
// space. Strings and comments are skipped, so commas inside them are kept. Every other byte stays
// where it was, so line and column numbers in later error messages still point into the file.
std::string blankTrailingCommas(std::string_view jsonc);

}  // namespace duro::config
