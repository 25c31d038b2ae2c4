#pragma once
// Byte views, a bounds-checked big-endian reader and writer, and a small inline byte buffer.
// Codecs use these and nothing else for wire integers: byte order lives only here.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace iwf {

using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

// Reads big-endian integers from a view; every read is bounds-checked and a failed read
// leaves the reader in a failed state (all later reads fail too), so a codec can read a
// whole header and check ok() once.
class ByteReader {
  public:
    explicit ByteReader(ByteView data) : data_(data) {}

    bool ok() const { return ok_; }
    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
    ByteView rest() const { return ok_ ? data_.subspan(pos_) : ByteView{}; }

    std::uint8_t u8() { return static_cast<std::uint8_t>(readBe(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(readBe(2)); }
    std::uint32_t u24() { return static_cast<std::uint32_t>(readBe(3)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(readBe(4)); }
    std::uint64_t u64() { return readBe(8); }
    std::uint16_t u16le() { return static_cast<std::uint16_t>(readLe(2)); }
    std::uint32_t u32le() { return static_cast<std::uint32_t>(readLe(4)); }

    ByteView take(std::size_t n) {
        if (!need(n)) {
            return {};
        }
        ByteView v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    void skip(std::size_t n) { (void)take(n); }
    template <std::size_t N>
    std::array<std::uint8_t, N> array() {
        std::array<std::uint8_t, N> out{};
        ByteView v = take(N);
        if (ok_) {
            std::copy(v.begin(), v.end(), out.begin());
        }
        return out;
    }

  private:
    bool need(std::size_t n) {
        if (!ok_ || data_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }
    std::uint64_t readBe(std::size_t n) {
        if (!need(n)) {
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = (v << 8) | data_[pos_ + i];
        }
        pos_ += n;
        return v;
    }
    std::uint64_t readLe(std::size_t n) {
        if (!need(n)) {
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
        }
        pos_ += n;
        return v;
    }

    ByteView data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

// Appends big-endian integers to a growable vector.
class ByteWriter {
  public:
    explicit ByteWriter(Bytes& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { putBe(v, 2); }
    void u24(std::uint32_t v) { putBe(v, 3); }
    void u32(std::uint32_t v) { putBe(v, 4); }
    void u64(std::uint64_t v) { putBe(v, 8); }
    void u16le(std::uint16_t v) { putLe(v, 2); }
    void u32le(std::uint32_t v) { putLe(v, 4); }
    void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    void str(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
    std::size_t size() const { return out_.size(); }

  private:
    void putBe(std::uint64_t v, std::size_t n) {
        for (std::size_t i = n; i > 0; --i) {
            out_.push_back(static_cast<std::uint8_t>(v >> (8 * (i - 1))));
        }
    }
    void putLe(std::uint64_t v, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }
    Bytes& out_;
};

// A fixed-capacity byte buffer stored inline (no heap): voice payloads and crypto fields
// travel in these so the data plane does not allocate per frame.
template <std::size_t Capacity>
class InlineBytes {
  public:
    InlineBytes() = default;
    explicit InlineBytes(ByteView v) { assign(v); }

    // Returns false (and stores nothing) when v does not fit.
    bool assign(ByteView v) {
        if (v.size() > Capacity) {
            size_ = 0;
            return false;
        }
        std::memcpy(data_.data(), v.data(), v.size());
        size_ = static_cast<std::uint16_t>(v.size());
        return true;
    }
    ByteView view() const { return {data_.data(), size_}; }
    MutableByteView mutableView() { return {data_.data(), size_}; }
    const std::uint8_t* data() const { return data_.data(); }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    static constexpr std::size_t capacity() { return Capacity; }
    void clear() { size_ = 0; }

    bool operator==(const InlineBytes& o) const {
        return size_ == o.size_ && std::memcmp(data_.data(), o.data_.data(), size_) == 0;
    }

  private:
    std::array<std::uint8_t, Capacity> data_{};
    std::uint16_t size_ = 0;
};

inline ByteView asBytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Lower-case hex without separators ("0a1b").
std::string toHex(ByteView v);
// Parses hex, ignoring spaces, colons and a leading "0x"; fails on odd length or bad digit.
Result<Bytes> fromHex(std::string_view s);

}  // namespace iwf
