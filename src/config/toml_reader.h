// readToml: parses a wrangler.toml with toml++ into a ConfigValue tree (internal to src/config).
// toml++ throws on syntax errors; the exception is caught here and becomes a Status.
#pragma once

#include <string_view>

#include "config/config_value.h"
#include "duro/status.h"

namespace duro::config {

// `label` names the file in messages. Syntax errors are kInvalidArgument
// "<label>:<line>:<column>: TOML syntax error: <what toml++ says>".
Result<ConfigValue> readToml(std::string_view text, std::string_view label);

}  // namespace duro::config
