// duro::Status and duro::Result<T>: how duro reports errors without exceptions, and duro::Error,
// the exception that carries a Status through user handlers (C++ objects and Workers).
//
// A Status is OK or carries a code and a message. OK is free: no allocation. Codes follow Durable
// Objects semantics, so that the HTTP edge and the JS boundary can map them (kOverloaded -> 503,
// kInvalidArgument -> TypeError, ...). Status and Result are plain values; safe to move between
// threads, not to share mutably.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace duro {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something malformed (bad ID, bad flag value)
  kNotFound,         // no such namespace, binding, key
  kLimitExceeded,    // a documented size or count limit was exceeded
  kOverloaded,       // the object's queue is full; retry later (HTTP 503)
  kStorage,          // the disk or the database failed
  kObjectReset,      // the object was reset while the operation was outstanding
  kUnavailable,      // the server is shutting down
  kInternal,         // a broken invariant or an unexpected exception
};

// The canonical name of a code, e.g. "overloaded".
std::string_view statusCodeName(StatusCode code);

class Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string message);

  static Status ok() { return Status(); }
  static Status invalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status limitExceeded(std::string m) { return {StatusCode::kLimitExceeded, std::move(m)}; }
  static Status overloaded(std::string m) { return {StatusCode::kOverloaded, std::move(m)}; }
  static Status storage(std::string m) { return {StatusCode::kStorage, std::move(m)}; }
  static Status objectReset(std::string m) { return {StatusCode::kObjectReset, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool isOk() const noexcept { return rep_ == nullptr; }
  explicit operator bool() const noexcept { return isOk(); }
  StatusCode code() const noexcept { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message alone ("" when OK).
  const std::string& message() const noexcept;
  // "overloaded: Durable Object is overloaded" or "ok".
  std::string toString() const;

  // The same error with machine-readable detail attached: opaque bytes for whoever handles it
  // (the JavaScript layer attaches the serialized exception, so a caller in another object can
  // rethrow it with its class, name and message). Not shown in messages.
  Status withDetail(std::string detail) const;
  // The detail, or nullptr.
  const std::string* detail() const noexcept { return rep_ && rep_->detail ? &*rep_->detail : nullptr; }

  bool isOverloaded() const noexcept { return code() == StatusCode::kOverloaded; }
  bool isInvalidArgument() const noexcept { return code() == StatusCode::kInvalidArgument; }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::optional<std::string> detail;
  };
  // Shared so that copies are cheap; a Rep is immutable once built.
  std::shared_ptr<const Rep> rep_;
};

// An exception carrying a Status. Thrown into user code by SDK calls that fail (a stub call to an
// overloaded object, an invalid ID) and caught at the runtime's boundaries, which map it back.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status)
      : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

// A value or a non-OK Status. Kept small so it can become std::expected later.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool isOk() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return isOk(); }
  const Status& status() const {
    static const Status kOk;
    return isOk() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // The value, or throws duro::Error with the status.
  T valueOrThrow() && {
    if (!isOk()) throw Error(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace duro
