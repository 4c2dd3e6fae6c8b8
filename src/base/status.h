// Error values for every layer: Error (a code plus a message naming file, field and value),
// Expected<T> (a value or an Error) and Status (Expected<void>). Library code never throws.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace locara {

enum class ErrorCode {
  kInvalidArgument,    // the caller passed something that cannot work
  kNotFound,           // a file, key, tensor or model that is not there
  kIoError,            // the OS refused (open, mmap, read)
  kCorruptFile,        // a file whose bytes contradict its format
  kUnsupported,        // well-formed, but a feature we do not implement
  kOutOfRange,         // a value outside what the format or the config allows
  kResourceExhausted,  // memory, context or a queue is full
  kInternal,           // a broken invariant: a bug in Locara
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

// make_error(ErrorCode::kCorruptFile, "tensor '{}': offset {} past end of file", name, off)
template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

// A value of type T, or the Error that prevented it. Thread-compatible.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
  Expected(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(storage_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(storage_);
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Expected<void>;

inline Status ok_status() {
  return Status();
}

}  // namespace locara

// Propagate an error from an expression returning Status or Expected<T>.
#define LOCARA_RETURN_IF_ERROR(expr)                    \
  do {                                                  \
    auto locara_status_ = (expr);                       \
    if (!locara_status_) return locara_status_.error(); \
  } while (0)

#define LOCARA_CONCAT_INNER_(a, b) a##b
#define LOCARA_CONCAT_(a, b) LOCARA_CONCAT_INNER_(a, b)

// LOCARA_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
#define LOCARA_ASSIGN_OR_RETURN(lhs, expr) \
  LOCARA_ASSIGN_OR_RETURN_IMPL_(LOCARA_CONCAT_(locara_expected_, __LINE__), lhs, expr)
#define LOCARA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp) return tmp.error();                       \
  lhs = std::move(tmp).value()
