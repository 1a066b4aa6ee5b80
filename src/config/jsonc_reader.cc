// Implementation of readJsonc (jsonc_reader.h).
//
// nlohmann::json parses (with ignore_comments) through its SAX interface, which builds the
// ConfigValue tree directly. nlohmann reports no positions for values, so the input goes through
// CountingIterator, which records how far the lexer has read: when a SAX event fires, the last byte
// read ends the token just scanned (a closing quote, the last letter of a literal, '{', or for a
// number the byte after it, which is on the same line), so its line is the value's line.
#include "config/jsonc_reader.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include <nlohmann/json.hpp>

namespace duro::config {

std::string blankTrailingCommas(std::string_view jsonc) {
  std::string out(jsonc);
  const size_t size = out.size();
  // Index of the next byte at or after `i` that is not whitespace or inside a comment.
  auto skipSpaceAndComments = [&](size_t i) {
    while (i < size) {
      char c = out[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '/' && i + 1 < size && out[i + 1] == '/') {
        while (i < size && out[i] != '\n') ++i;
      } else if (c == '/' && i + 1 < size && out[i + 1] == '*') {
        size_t close = out.find("*/", i + 2);
        i = close == std::string::npos ? size : close + 2;
      } else {
        break;
      }
    }
    return i;
  };
  // The last byte outside strings, comments and whitespace: a trailing comma must follow a value,
  // so "[,]" and "[1,,]" stay invalid, as in jsonc-parser.
  char previous = 0;
  size_t i = 0;
  while (i < size) {
    char c = out[i];
    if (c == '"') {
      // Skip the string, honouring backslash escapes; an unterminated string runs to the end and
      // is left for the parser to report.
      ++i;
      while (i < size && out[i] != '"') i += out[i] == '\\' ? 2 : 1;
      ++i;
      previous = '"';
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
               (c == '/' && i + 1 < size && (out[i + 1] == '/' || out[i + 1] == '*'))) {
      i = skipSpaceAndComments(i);
    } else if (c == ',') {
      size_t next = skipSpaceAndComments(i + 1);
      bool afterValue = previous != 0 && previous != ',' && previous != '[' && previous != '{';
      if (afterValue && next < size && (out[next] == '}' || out[next] == ']')) out[i] = ' ';
      previous = ',';
      ++i;
    } else {
      previous = c;
      ++i;
    }
  }
  return out;
}

namespace {

// An input iterator over the text that remembers the furthest byte handed to the lexer.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* at, const char** furthest) : at_(at), furthest_(furthest) {}
  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    ++at_;
    if (at_ > *furthest_) *furthest_ = at_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }
  bool operator!=(const CountingIterator& other) const { return at_ != other.at_; }

 private:
  const char* at_;
  const char** furthest_;
};

// Line (1-based) of each byte offset, by binary search over the newline offsets.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines_.push_back(i);
    }
  }
  // The line of the byte at `offset`; a '\n' belongs to the line it ends.
  uint32_t lineOf(size_t offset) const {
    auto before = std::lower_bound(newlines_.begin(), newlines_.end(), offset);
    return static_cast<uint32_t>(before - newlines_.begin()) + 1;
  }
  // 1-based column of the byte at `offset`.
  uint32_t columnOf(size_t offset) const {
    auto before = std::lower_bound(newlines_.begin(), newlines_.end(), offset);
    size_t lineStart = before == newlines_.begin() ? 0 : *(before - 1) + 1;
    return static_cast<uint32_t>(offset - lineStart) + 1;
  }

 private:
  std::vector<size_t> newlines_;
};

// Builds the ConfigValue tree from nlohmann's SAX events.
class TreeBuilder {
 public:
  using json = nlohmann::json;

  TreeBuilder(std::string_view text, const char** furthest, std::string_view label,
              std::vector<std::string>& warnings)
      : begin_(text.data()),
        furthest_(furthest),
        lines_(text),
        label_(label),
        warnings_(warnings) {}

  bool null() { return add(scalar(ConfigValue::Kind::kNull)); }
  bool boolean(bool b) {
    ConfigValue v = scalar(ConfigValue::Kind::kBool);
    v.boolean = b;
    return add(std::move(v));
  }
  bool number_integer(json::number_integer_t n) {
    ConfigValue v = scalar(ConfigValue::Kind::kInteger);
    v.integer = n;
    return add(std::move(v));
  }
  bool number_unsigned(json::number_unsigned_t n) {
    // Only values above INT64_MAX arrive here as unsigned that do not fit; keep them as floats,
    // as JavaScript would.
    if (n <= static_cast<json::number_unsigned_t>(INT64_MAX)) {
      return number_integer(static_cast<json::number_integer_t>(n));
    }
    ConfigValue v = scalar(ConfigValue::Kind::kFloat);
    v.number = static_cast<double>(n);
    return add(std::move(v));
  }
  bool number_float(json::number_float_t n, const json::string_t&) {
    ConfigValue v = scalar(ConfigValue::Kind::kFloat);
    v.number = n;
    return add(std::move(v));
  }
  bool string(json::string_t& s) {
    ConfigValue v = scalar(ConfigValue::Kind::kString);
    v.text = std::move(s);
    return add(std::move(v));
  }
  bool binary(json::binary_t&) { return false; }  // not produced by the JSON lexer
  bool start_object(std::size_t) {
    stack_.push_back({scalar(ConfigValue::Kind::kTable), {}, {}});
    return true;
  }
  bool key(json::string_t& k) {
    stack_.back().pendingKey = std::move(k);
    stack_.back().pendingKeyLine = currentLine();
    return true;
  }
  bool end_object() { return finishContainer(); }
  bool start_array(std::size_t) {
    stack_.push_back({scalar(ConfigValue::Kind::kArray), {}, {}});
    return true;
  }
  bool end_array() { return finishContainer(); }
  bool parse_error(std::size_t position, const std::string& lastToken,
                   const nlohmann::detail::exception& e) {
    // `position` counts the bytes read, up to the end of the offending token `lastToken`; point at
    // where that token starts, as an editor would. nlohmann writes control characters in
    // `lastToken` as "<U+XXXX>", which breaks the length arithmetic: then point at the last byte.
    size_t offset = position == 0 ? 0 : position - 1;
    if (!lastToken.empty() && lastToken.size() <= position &&
        lastToken.find("<U+") == std::string::npos) {
      offset = position - lastToken.size();
    }
    std::string what = e.what();
    // nlohmann's text reads "[json.exception.parse_error.101] parse error at line 3, column 5:
    // syntax error while parsing ..."; keep only what follows the position.
    if (size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    error_ = std::string(label_) + ":" + std::to_string(lines_.lineOf(offset)) + ":" +
             std::to_string(lines_.columnOf(offset)) + ": JSON syntax error: " + what;
    return false;
  }

  std::optional<ConfigValue>& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    ConfigValue value;
    std::string pendingKey;
    uint32_t pendingKeyLine = 0;
  };

  uint32_t currentLine() const {
    size_t read = static_cast<size_t>(*furthest_ - begin_);
    return lines_.lineOf(read == 0 ? 0 : read - 1);
  }

  ConfigValue scalar(ConfigValue::Kind kind) const {
    ConfigValue v;
    v.kind = kind;
    v.line = currentLine();
    return v;
  }

  bool finishContainer() {
    ConfigValue done = std::move(stack_.back().value);
    stack_.pop_back();
    return add(std::move(done));
  }

  bool add(ConfigValue value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return true;
    }
    Frame& parent = stack_.back();
    if (parent.value.kind == ConfigValue::Kind::kArray) {
      parent.value.items.push_back(std::move(value));
      return true;
    }
    auto& members = parent.value.members;
    auto same = std::find_if(members.begin(), members.end(),
                             [&](const ConfigMember& m) { return m.key == parent.pendingKey; });
    if (same != members.end()) {
      // JSON.parse keeps the last value; the key keeps its first place.
      warnings_.push_back(std::string(label_) + ":" + std::to_string(parent.pendingKeyLine) +
                          ": key \"" + parent.pendingKey +
                          "\" appears more than once; the last value is used");
      same->value = std::move(value);
    } else {
      members.push_back({std::move(parent.pendingKey), std::move(value)});
    }
    return true;
  }

  const char* begin_;
  const char** furthest_;
  LineIndex lines_;
  std::string_view label_;
  std::vector<std::string>& warnings_;
  std::vector<Frame> stack_;
  std::optional<ConfigValue> root_;
  std::string error_;
};

}  // namespace

Result<ConfigValue> readJsonc(std::string_view text, std::string_view label,
                              std::vector<std::string>& warnings) {
  std::string prepared = blankTrailingCommas(text);
  const char* furthest = prepared.data();
  CountingIterator first(prepared.data(), &furthest);
  CountingIterator last(prepared.data() + prepared.size(), &furthest);
  TreeBuilder builder(prepared, &furthest, label, warnings);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(first, last, &builder, nlohmann::json::input_format_t::json,
                                   /*strict=*/true, /*ignore_comments=*/true);
  } catch (const std::exception& e) {
    return Status::invalidArgument(std::string(label) + ": cannot parse JSON: " + e.what());
  }
  if (!ok || !builder.root()) {
    if (!builder.error().empty()) return Status::invalidArgument(builder.error());
    return Status::invalidArgument(std::string(label) + ": cannot parse JSON");
  }
  return std::move(*builder.root());
}

}  // namespace duro::config
