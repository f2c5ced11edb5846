// base/small_vector.h owns SmallVector<T, N>: a vector of trivially copyable values that
// keeps up to N of them inside itself and goes to the heap only past that. A rule's action
// list is two to four actions, and there are 100,000 rules: as a std::vector it cost a
// malloc when compiled, a free when destroyed, and a pointer to chase (a cache miss in a big
// table) each time the rule was hashed, compared or translated.
//
// The std::vector subset vfswitch uses, with the same meaning; iterators are pointers and,
// as std::vector's, are invalidated by any change of size.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>

namespace vfs {

template <typename T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector copies its values as bytes");
  static_assert(N > 0 && N < UINT32_MAX);

 public:
  using value_type = T;
  using size_type = size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reference = T&;
  using const_reference = const T&;

  SmallVector() = default;
  SmallVector(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  SmallVector(const SmallVector& o) { assign(o.begin(), o.end()); }
  SmallVector(SmallVector&& o) noexcept { take(o); }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> init) {
    assign(init.begin(), init.end());
    return *this;
  }
  ~SmallVector() { release(); }

  // [first, last) must not point into this vector.
  template <typename It>
  void assign(It first, It last) {
    const size_t n = static_cast<size_t>(std::distance(first, last));
    size_ = 0;
    reserve(n);
    std::copy(first, last, data());
    size_ = static_cast<uint32_t>(n);
  }

  T* data() { return on_heap() ? heap_ : reinterpret_cast<T*>(inline_); }
  const T* data() const { return on_heap() ? heap_ : reinterpret_cast<const T*>(inline_); }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n <= capacity()) return;
    if (n >= UINT32_MAX) throw std::bad_alloc();
    T* p = static_cast<T*>(std::malloc(n * sizeof(T)));
    if (!p) throw std::bad_alloc();
    if (size_) std::memcpy(static_cast<void*>(p), data(), size_ * sizeof(T));
    if (on_heap()) std::free(heap_);
    heap_ = p;
    capacity_ = static_cast<uint32_t>(n);
  }
  void push_back(const T& v) {
    if (size_ == capacity()) {
      const T copy = v;  // v may live in this vector
      reserve(2 * capacity());
      data()[size_++] = copy;
      return;
    }
    data()[size_++] = v;
  }
  void pop_back() { --size_; }
  iterator insert(const_iterator pos, const T& v) {
    const T copy = v;
    const size_t at = static_cast<size_t>(pos - begin());
    if (size_ == capacity()) reserve(2 * capacity());
    T* d = data();
    std::memmove(static_cast<void*>(d + at + 1), d + at, (size_ - at) * sizeof(T));
    d[at] = copy;
    ++size_;
    return d + at;
  }
  // [first, last) must not point into this vector.
  template <typename It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_t at = static_cast<size_t>(pos - begin());
    const size_t n = static_cast<size_t>(std::distance(first, last));
    if (size_ + n > capacity()) reserve(std::max(size_ + n, 2 * capacity()));
    T* d = data();
    std::memmove(static_cast<void*>(d + at + n), d + at, (size_ - at) * sizeof(T));
    std::copy(first, last, d + at);
    size_ = static_cast<uint32_t>(size_ + n);
    return d + at;
  }
  iterator erase(const_iterator pos) {
    const size_t at = static_cast<size_t>(pos - begin());
    T* d = data();
    std::memmove(static_cast<void*>(d + at), d + at + 1, (size_ - at - 1) * sizeof(T));
    --size_;
    return d + at;
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const { return capacity_ > N; }
  void release() {
    if (on_heap()) std::free(heap_);
    capacity_ = N;
    size_ = 0;
  }
  // Leaves o empty (inline).
  void take(SmallVector& o) {
    if (o.on_heap()) {
      heap_ = o.heap_;
      capacity_ = o.capacity_;
      o.capacity_ = N;
    } else {
      std::memcpy(inline_, o.inline_, o.size_ * sizeof(T));
    }
    size_ = o.size_;
    o.size_ = 0;
  }

  uint32_t size_ = 0;
  uint32_t capacity_ = N;  // more than N: the values are on the heap, at heap_
  union {
    T* heap_;
    alignas(T) unsigned char inline_[N * sizeof(T)];
  };
};

}  // namespace vfs
