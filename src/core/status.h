// Expected failures as values. Every fallible function in Interlock returns
// Result<T> (an alias of std::expected<T, Error>); exceptions never cross a
// module boundary.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace interlock {

enum class ErrorKind {
  kInvalidArgument,   // bad input from a user: request, flag, file contents
  kNotFound,          // a named thing does not exist
  kAlreadyExists,     // creating something that is already there
  kConflict,          // the thing is not in a state that allows this (a finished rollout)
  kIo,                // the operating system refused (read, write, fsync)
  kCorruption,        // stored data is inconsistent
  kPermissionDenied,  // the caller may not do this
  kUnavailable,       // a dependency is down or full; retry may succeed
  kNotRecorded,       // the audit record of an action could not be made durable,
                      // so the action was not taken (fail closed); retry may succeed
  kInternal,          // a bug in Interlock
};

// What went wrong, in words written for the person who has to fix it.
class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  static Error InvalidArgument(std::string m) {
    return {ErrorKind::kInvalidArgument, std::move(m)};
  }
  static Error NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorKind::kAlreadyExists, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorKind::kConflict, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorKind::kIo, std::move(m)}; }
  static Error Corruption(std::string m) { return {ErrorKind::kCorruption, std::move(m)}; }
  static Error PermissionDenied(std::string m) {
    return {ErrorKind::kPermissionDenied, std::move(m)};
  }
  static Error Unavailable(std::string m) { return {ErrorKind::kUnavailable, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }
  // `what` was not done because `cause` kept its audit record from being
  // made durable: "the change was not made: <cause>".
  static Error NotRecorded(std::string_view what, const Error& cause) {
    return {ErrorKind::kNotRecorded, std::string(what) + ": " + cause.message()};
  }

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  std::string message_;
};

template <class T>
using Result = std::expected<T, Error>;

// Result<void> success value: `return Ok();`
inline Result<void> Ok() { return {}; }

}  // namespace interlock
