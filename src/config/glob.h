// Glob matching for wrangler's module rules ([[rules]] globs = ["**/*.txt"]): decides which module
// type a file of the Worker gets. Pure functions on '/'-separated relative paths; no file access.
#pragma once

#include <string_view>

namespace duro::config {

// True if `path` (relative, '/'-separated, e.g. "src/data/a.txt") matches `glob`.
//   `**` as a whole segment matches zero or more segments ("**/*.txt" matches "a.txt" and
//        "x/y/a.txt"); inside a segment ("a**b") it acts like `*`, as in wrangler's matcher.
//   `*`  matches any run of characters within one segment (never '/').
//   `?`  matches exactly one character within a segment. Wrangler's matcher (glob-to-regexp without
//        `extended`) treats '?' as a literal instead; the two agree on the default
//        "**/*.wasm?module".
// Everything else matches itself; there are no character classes or braces (wrangler has none).
bool globMatches(std::string_view glob, std::string_view path);

}  // namespace duro::config
