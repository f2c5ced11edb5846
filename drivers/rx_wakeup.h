// drivers/rx_wakeup.h owns the doorbell that lets the slow path sleep in the kernel when
// no exception packet is pending and be woken the moment the driver delivers one (the
// sim's datapath thread rings it; a NIC driver could map it to rx interrupts). Without
// it the slow path can only poll with a timed back-off, which costs CPU when idle. The
// offload worker sleeps on one too (offload/offload_engine.h), rung by the slow path's
// post of a learned MAC.
//
// Protocol (a Dekker pair; both sides fence):
//   consumer: arm(); re-check every queue; if still empty, wait for fd() to be readable;
//             then disarm().
//   producer: enqueue; notify() — rings only if the consumer is armed, so the datapath
//             makes no syscall while the slow path is busy.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace vfs::drivers {

class RxWakeup {
 public:
  RxWakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~RxWakeup() {
    if (fd_ >= 0) ::close(fd_);
  }
  RxWakeup(const RxWakeup&) = delete;
  RxWakeup& operator=(const RxWakeup&) = delete;

  bool valid() const { return fd_ >= 0; }
  // Armed and not yet rung (tests await this before producing).
  bool armed() const { return armed_.load(std::memory_order_acquire); }
  int fd() const { return fd_; }

  void arm() {
    armed_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  void disarm() {
    armed_.store(false, std::memory_order_relaxed);
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(fd_, &v, sizeof(v));
  }
  // Producer side, after making work visible.
  void notify() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (armed_.load(std::memory_order_relaxed) && armed_.exchange(false)) ring();
  }
  // Wakes the consumer whatever its state (control plane: "look at the new policy").
  void ring() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof(one));
  }

 private:
  int fd_;
  std::atomic<bool> armed_{false};
};

}  // namespace vfs::drivers
