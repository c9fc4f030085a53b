// FaultGuard: a mapping whose object another process truncates reads zeros instead of ending the
// process; any other SIGBUS still ends it.
#include "frontend/http/fault_guard.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace switchyard::http {
namespace {

struct Mapping {
  int fd = -1;
  std::byte* bytes = nullptr;
  std::size_t size = 0;
};

Mapping MapObject(std::size_t size) {
  Mapping m;
  m.fd = ::memfd_create("fault-guard-test", MFD_CLOEXEC);
  EXPECT_GE(m.fd, 0) << std::strerror(errno);
  EXPECT_EQ(::ftruncate(m.fd, static_cast<off_t>(size)), 0);
  m.size = size;
  m.bytes =
      static_cast<std::byte*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0));
  EXPECT_NE(m.bytes, MAP_FAILED);
  std::memset(m.bytes, 7, size);
  return m;
}

void Unmap(Mapping& m) {
  ::munmap(m.bytes, m.size);
  ::close(m.fd);
}

TEST(FaultGuardTest, ATruncatedObjectReadsAsZerosAndMarksTheGuard) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  Mapping m = MapObject(4 * page);
  auto guard = FaultGuard::Guard(m.bytes, m.size);
  ASSERT_NE(guard, nullptr);
  EXPECT_FALSE(guard->faulted());
  EXPECT_EQ(static_cast<int>(m.bytes[3 * page]), 7);
  ASSERT_EQ(::ftruncate(m.fd, 0), 0);  // what a misbehaving client does to its region
  volatile std::byte* last = m.bytes + 3 * page;
  EXPECT_EQ(static_cast<int>(*last), 0);
  EXPECT_TRUE(guard->faulted());
  m.bytes[0] = std::byte{1};  // writable still, though what is written goes nowhere
  guard.reset();
  Unmap(m);
}

TEST(FaultGuardTest, GuardsOnlyWhileItLives) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  Mapping guarded = MapObject(page);
  auto guard = FaultGuard::Guard(guarded.bytes, guarded.size);  // the handler is installed
  ASSERT_NE(guard, nullptr);
  EXPECT_DEATH(
      {
        Mapping m = MapObject(page);
        ::ftruncate(m.fd, 0);
        volatile std::byte* first = m.bytes;
        (void)*first;  // not guarded: SIGBUS as without the guard
      },
      "");
  guard.reset();
  Unmap(guarded);
}

}  // namespace
}  // namespace switchyard::http
