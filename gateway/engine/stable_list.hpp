#pragma once
// StableList<T, N>: an append-only sequence whose elements never move. The first N elements
// live inline in the list object; each further one is its own heap node (a vector of owning
// pointers indexes them). A reference or pointer to an element stays valid until the list is
// destroyed, whatever is appended after it: the property the engine's call kept its legs in a
// std::deque for, without the deque's allocations (libstdc++ allocates a 64-byte map and a
// node even for an empty deque, and one node per element of a 264-byte Leg: ~860 B for the
// two legs of an interworked call; here: none).
//
// Elements are never erased (the engine reuses a dead leg's slot instead), so an index taken
// once names the same element for the list's lifetime.

#include <array>
#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

namespace iwf::gateway::engine {

template <typename T, std::size_t N>
class StableList {
    static_assert(N > 0, "StableList: at least one inline element");

  public:
    template <bool Const>
    class Iter {
        using List = std::conditional_t<Const, const StableList, StableList>;

      public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = std::conditional_t<Const, const T*, T*>;
        using reference = std::conditional_t<Const, const T&, T&>;

        Iter() = default;
        Iter(List* list, std::size_t i) : list_(list), i_(i) {}
        reference operator*() const { return (*list_)[i_]; }
        pointer operator->() const { return &(*list_)[i_]; }
        Iter& operator++() {
            ++i_;
            return *this;
        }
        Iter operator++(int) {
            Iter old = *this;
            ++i_;
            return old;
        }
        bool operator==(const Iter& o) const { return i_ == o.i_ && list_ == o.list_; }

      private:
        List* list_ = nullptr;
        std::size_t i_ = 0;
    };
    using iterator = Iter<false>;
    using const_iterator = Iter<true>;

    StableList() = default;
    // Elements are referred to by address: the list itself does not move or copy.
    StableList(const StableList&) = delete;
    StableList& operator=(const StableList&) = delete;

    static constexpr std::size_t inlineCapacity() { return N; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    T& operator[](std::size_t i) { return i < N ? inline_[i] : *more_[i - N]; }
    const T& operator[](std::size_t i) const { return i < N ? inline_[i] : *more_[i - N]; }

    // Appends a value-initialised element (an inline slot is reset to T{}). No element moves.
    T& emplace_back() {
        if (size_ < N) {
            T& t = inline_[size_];
            t = T{};
            ++size_;
            return t;
        }
        more_.push_back(std::make_unique<T>());
        ++size_;
        return *more_.back();
    }

    iterator begin() { return iterator(this, 0); }
    iterator end() { return iterator(this, size_); }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, size_); }

  private:
    std::array<T, N> inline_{};
    std::vector<std::unique_ptr<T>> more_;  // element N + i is *more_[i]
    std::size_t size_ = 0;
};

}  // namespace iwf::gateway::engine
