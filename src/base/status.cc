// Implementation of duro::Status (include/duro/status.h).
#include "duro/status.h"

namespace duro {

std::string_view statusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kLimitExceeded: return "limit exceeded";
    case StatusCode::kOverloaded: return "overloaded";
    case StatusCode::kStorage: return "storage error";
    case StatusCode::kObjectReset: return "object reset";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), std::nullopt});
  }
}

Status Status::withDetail(std::string detail) const {
  Status out;
  if (rep_) out.rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, std::move(detail)});
  return out;
}

const std::string& Status::message() const noexcept {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string s(statusCodeName(code()));
  s += ": ";
  s += message();
  return s;
}

}  // namespace duro
