#include "ipc/shm_region.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace switchyard::ipc {
namespace {

UniqueFd Dup(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

TEST(ShmRegionTest, CreateIsZeroFilledAndCloseOnExec) {
  auto region = ShmRegion::Create("test", 4096);
  ASSERT_TRUE(region.ok()) << region.status().ToString();
  EXPECT_EQ(region->size(), 4096u);
  ASSERT_NE(region->data(), nullptr);
  for (std::size_t i = 0; i < region->size(); ++i) ASSERT_EQ(region->data()[i], std::byte{0});
  EXPECT_NE(::fcntl(region->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(ShmRegionTest, SecondMappingOfTheSameFdSharesTheBytes) {
  auto first = ShmRegion::Create("test", 8192);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  for (std::size_t i = 0; i < first->size(); ++i) first->data()[i] = std::byte(i * 7);

  auto second = ShmRegion::Map(Dup(first->fd()), 8192);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_NE(second->data(), first->data());
  EXPECT_EQ(std::memcmp(first->data(), second->data(), 8192), 0);

  second->data()[8191] = std::byte{0xAB};
  EXPECT_EQ(first->data()[8191], std::byte{0xAB});
}

TEST(ShmRegionTest, MapMaySeeLessThanTheWholeFile) {
  auto region = ShmRegion::Create("test", 8192);
  ASSERT_TRUE(region.ok());
  auto prefix = ShmRegion::Map(Dup(region->fd()), 100);
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(prefix->size(), 100u);
}

TEST(ShmRegionTest, MapOfATooSmallFileFails) {
  auto region = ShmRegion::Create("test", 4096);
  ASSERT_TRUE(region.ok());
  auto mapped = ShmRegion::Map(Dup(region->fd()), 4097);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mapped.status().message().find("4096"), std::string::npos);
}

TEST(ShmRegionTest, MapRefusesAFileThatCouldShrinkUnderTheMapping) {
  UniqueFd fd(::memfd_create("unsealed", MFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
  auto mapped = ShmRegion::Map(std::move(fd), 4096);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.status().code(), StatusCode::kInvalidArgument);
}

TEST(ShmRegionTest, CreatedRegionCannotBeShrunk) {
  auto region = ShmRegion::Create("test", 4096);
  ASSERT_TRUE(region.ok());
  EXPECT_NE(::ftruncate(region->fd(), 0), 0);
}

TEST(ShmRegionTest, RejectsSizeZeroAndMissingFd) {
  EXPECT_EQ(ShmRegion::Create("test", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ShmRegion::Map(UniqueFd(), 16).status().code(), StatusCode::kInvalidArgument);
  auto region = ShmRegion::Create("test", 4096);
  ASSERT_TRUE(region.ok());
  EXPECT_EQ(ShmRegion::Map(Dup(region->fd()), 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(ShmRegionTest, MapOfANonFileFails) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd write_end(pipe_fds[1]);
  auto mapped = ShmRegion::Map(UniqueFd(pipe_fds[0]), 16);
  EXPECT_EQ(mapped.status().code(), StatusCode::kInvalidArgument);
}

TEST(ShmRegionTest, MoveTransfersTheMapping) {
  auto created = ShmRegion::Create("test", 4096);
  ASSERT_TRUE(created.ok());
  ShmRegion region = std::move(created).value();
  region.data()[0] = std::byte{42};
  const int fd = region.fd();

  ShmRegion moved(std::move(region));
  EXPECT_EQ(region.data(), nullptr);  // NOLINT(bugprone-use-after-move): checking moved-from
  EXPECT_EQ(region.fd(), -1);         // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(moved.data()[0], std::byte{42});

  auto other = ShmRegion::Create("other", 4096);
  ASSERT_TRUE(other.ok());
  moved = std::move(other).value();  // unmaps and closes the first region
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(moved.data()[0], std::byte{0});
}

}  // namespace
}  // namespace switchyard::ipc
