// Implementation of globMatches (glob.h): split both sides into '/'-separated segments, let a `**`
// segment consume any number of path segments, and match the other segments with `*` and `?`.
#include "config/glob.h"

#include <vector>

namespace duro::config {
namespace {

std::vector<std::string_view> splitSegments(std::string_view text) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(text.substr(start));
      return segments;
    }
    segments.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

// One segment: `*` any run, `?` one character, anything else literally. The classic linear
// backtracking algorithm: on a mismatch, retry from the last `*` with one more character eaten.
bool segmentMatches(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t starP = std::string_view::npos, starT = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;  // "a**b" inside a segment is "a*b"
      starP = p;
      starT = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (starP != std::string_view::npos) {
      p = starP;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Segment lists; `**` may match zero or more whole segments. Recursion depth is bounded by the
// number of glob segments, and globs come from the config file, so they are short.
bool segmentsMatch(const std::vector<std::string_view>& glob, size_t g,
                   const std::vector<std::string_view>& path, size_t p) {
  while (g < glob.size()) {
    if (glob[g] == "**") {
      while (g + 1 < glob.size() && glob[g + 1] == "**") ++g;  // "**/**" is "**"
      if (g + 1 == glob.size()) return true;                   // trailing "**": everything below
      for (size_t skip = p; skip < path.size(); ++skip) {
        if (segmentsMatch(glob, g + 1, path, skip)) return true;
      }
      return false;
    }
    if (p == path.size() || !segmentMatches(glob[g], path[p])) return false;
    ++g;
    ++p;
  }
  return p == path.size();
}

}  // namespace

bool globMatches(std::string_view glob, std::string_view path) {
  return segmentsMatch(splitSegments(glob), 0, splitSegments(path), 0);
}

}  // namespace duro::config
