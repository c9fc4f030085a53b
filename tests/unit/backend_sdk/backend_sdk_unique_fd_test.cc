#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

#include "switchyard/backend_sdk/unique_fd.h"

namespace switchyard::sdk {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(BackendSdkUniqueFdTest, ClosesOnDestructionAndReset) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    EXPECT_TRUE(read_end.valid());
    EXPECT_EQ(read_end.get(), fds[0]);
    write_end.Reset();
    EXPECT_FALSE(write_end.valid());
    EXPECT_FALSE(IsOpen(fds[1]));
    EXPECT_TRUE(IsOpen(fds[0]));
  }
  EXPECT_FALSE(IsOpen(fds[0]));
}

TEST(BackendSdkUniqueFdTest, MoveTransfersAndReleaseGivesUp) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd a(fds[0]);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(b.get(), fds[0]);
  UniqueFd c(fds[1]);
  c = std::move(b);  // closes c's own descriptor
  EXPECT_FALSE(IsOpen(fds[1]));
  EXPECT_EQ(c.get(), fds[0]);
  const int released = c.Release();
  EXPECT_EQ(released, fds[0]);
  EXPECT_FALSE(c.valid());
  EXPECT_TRUE(IsOpen(released));  // Release does not close
  ::close(released);
}

}  // namespace
}  // namespace switchyard::sdk
