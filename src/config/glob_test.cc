// Tests for globMatches: `**` across segments, `*` and `?` within one, literal text.
#include "config/glob.h"

#include <gtest/gtest.h>

namespace duro::config {
namespace {

TEST(Glob, DoubleStarMatchesZeroOrMoreSegments) {
  EXPECT_TRUE(globMatches("**/*.txt", "a.txt"));
  EXPECT_TRUE(globMatches("**/*.txt", "x/a.txt"));
  EXPECT_TRUE(globMatches("**/*.txt", "x/y/z/a.txt"));
  EXPECT_FALSE(globMatches("**/*.txt", "x/a.txt.bak"));
  EXPECT_TRUE(globMatches("src/**/data/*.bin", "src/data/a.bin"));
  EXPECT_TRUE(globMatches("src/**/data/*.bin", "src/a/b/data/a.bin"));
  EXPECT_FALSE(globMatches("src/**/data/*.bin", "lib/data/a.bin"));
  EXPECT_FALSE(globMatches("src/**/data/*.bin", "src/a/data/b/a.bin"));
}

TEST(Glob, TrailingDoubleStarMatchesEverythingBelow) {
  EXPECT_TRUE(globMatches("assets/**", "assets/a/b/c.png"));
  EXPECT_TRUE(globMatches("assets/**", "assets/c.png"));
  EXPECT_FALSE(globMatches("assets/**", "other/c.png"));
  EXPECT_TRUE(globMatches("**", "any/thing.js"));
  EXPECT_TRUE(globMatches("**/**/*.js", "a.js"));
}

TEST(Glob, StarStaysWithinOneSegment) {
  EXPECT_TRUE(globMatches("*.js", "index.js"));
  EXPECT_FALSE(globMatches("*.js", "src/index.js"));
  EXPECT_TRUE(globMatches("src/*.js", "src/index.js"));
  EXPECT_FALSE(globMatches("src/*.js", "src/lib/index.js"));
  EXPECT_TRUE(globMatches("src/*", "src/x"));
  EXPECT_TRUE(globMatches("a*b*c", "abc"));
  EXPECT_TRUE(globMatches("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(globMatches("a*b*c", "aXXbYY"));
  // Inside a segment `**` is just `*`, as in wrangler's matcher.
  EXPECT_TRUE(globMatches("a**z", "abcz"));
  EXPECT_FALSE(globMatches("a**z", "ab/cz"));
}

TEST(Glob, QuestionMarkIsOneCharacterWithinASegment) {
  EXPECT_TRUE(globMatches("file?.txt", "file1.txt"));
  EXPECT_FALSE(globMatches("file?.txt", "file12.txt"));
  EXPECT_FALSE(globMatches("file?.txt", "file.txt"));
  EXPECT_FALSE(globMatches("a?b", "a/b"));
  // The default CompiledWasm glob still matches the "?module" import suffix literally.
  EXPECT_TRUE(globMatches("**/*.wasm?module", "pkg/x.wasm?module"));
}

TEST(Glob, OtherCharactersMatchThemselves) {
  EXPECT_TRUE(globMatches("src/index.js", "src/index.js"));
  EXPECT_FALSE(globMatches("src/index.js", "src/index.jsx"));
  EXPECT_FALSE(globMatches("src/index.js", "src/indexXjs"));
  EXPECT_TRUE(globMatches("[a].js", "[a].js"));  // no character classes
  EXPECT_FALSE(globMatches("[a].js", "a.js"));
  EXPECT_FALSE(globMatches("a.js", ""));
  EXPECT_TRUE(globMatches("", ""));
}

}  // namespace
}  // namespace duro::config
