#pragma once
// Result type for the data plane: a value or an Error, never an exception.
//
// An Error carries a reason: a static snake_case string ("truncated", "bad_crc", ...) that is
// low-cardinality by construction, so it can label a counter ("dropped by reason") directly,
// plus an optional numeric detail (an offset, a length, a field value) for logs.

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace iwf {

struct Error {
    std::string_view reason;  // static string: must outlive every copy (use literals)
    std::int64_t detail = 0;  // optional context: offset, length, value

    bool operator==(const Error&) const = default;
    std::string toString() const;
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(error) {}         // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : error_(error), ok_(false) {}  // NOLINT(google-explicit-constructor)
    static Status success() { return {}; }

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const {
        assert(!ok_);
        return error_;
    }

  private:
    Error error_{};
    bool ok_ = true;
};

inline std::string Error::toString() const {
    std::string s(reason);
    if (detail != 0) {
        s += " (";
        s += std::to_string(detail);
        s += ")";
    }
    return s;
}

}  // namespace iwf

// Propagate an error from an expression returning Result<T> or Status.
#define IWF_TRY_STATUS(expr)                \
    do {                                    \
        auto iwf_try_status_ = (expr);      \
        if (!iwf_try_status_.ok()) {        \
            return iwf_try_status_.error(); \
        }                                   \
    } while (false)
