// base/result.h owns the error vocabulary used across every seam: Result<T> carries
// either a value or an Error that names the object it concerns and keeps the errno (and,
// for NIC errors, the driver's own words). Exceptions are only for programming errors.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

#include <fmt/core.h>

namespace vfs {

struct Error {
  int code = EINVAL;    // positive errno value
  std::string message;  // says what failed and on which object
};

template <class... Args>
Error make_error(int code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{code, fmt::format(f, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_{0, {}};
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace vfs
