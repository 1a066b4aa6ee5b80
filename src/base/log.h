// Minimal structured logging to stderr: one line per event, "time level [component] message".
// Thread-safe (each line is one write(2)). The level is process-wide, set once at start-up.
#pragma once

#include <string_view>

namespace duro::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void setLogLevel(LogLevel level);
LogLevel logLevel();
// Parses "debug", "info", "warn", "error", "off".
bool parseLogLevel(std::string_view text, LogLevel* out);

void log(LogLevel level, std::string_view component, std::string_view message);

inline void logInfo(std::string_view component, std::string_view message) {
  log(LogLevel::kInfo, component, message);
}
inline void logWarn(std::string_view component, std::string_view message) {
  log(LogLevel::kWarn, component, message);
}
inline void logError(std::string_view component, std::string_view message) {
  log(LogLevel::kError, component, message);
}

}  // namespace duro::base
