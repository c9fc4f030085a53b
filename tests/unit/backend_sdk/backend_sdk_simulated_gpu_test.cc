#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/backend_sdk/simulated_gpu.h"

namespace switchyard::sdk {
namespace {

// A simulated GPU's page in a memfd, as the host makes it (src/devices/shared_simulated_gpu.cc).
class Page {
 public:
  Page() {
    fd_ = memfd_create("simulated-gpu-test", 0);
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(ftruncate(fd_, sizeof(SimulatedGpuPage)), 0);
    void* memory =
        mmap(nullptr, sizeof(SimulatedGpuPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    EXPECT_NE(memory, MAP_FAILED);
    page_ = InitializeSimulatedGpuPage(memory);
  }
  ~Page() {
    munmap(page_, sizeof(SimulatedGpuPage));
    close(fd_);
  }
  std::string Description(const char* speed = "1") const {
    return std::to_string(fd_) + ":" + speed;
  }
  const SimulatedGpuPage& page() const { return *page_; }

 private:
  int fd_ = -1;
  SimulatedGpuPage* page_ = nullptr;
};

// Two mappings of one page in one process, as two in-process instances on one simulated GPU
// have: their holds never overlap, whichever thread of whichever mapping holds.
TEST(SimulatedGpuTest, HoldsOfThreadsOnTwoMappingsNeverOverlap) {
  Page page;
  auto a = SimulatedGpu::Open(page.Description());
  auto b = SimulatedGpu::Open(page.Description("2.5"));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().message() << b.status().message();
  EXPECT_EQ((*b)->speed(), 2.5);
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  constexpr int kThreads = 4;
  constexpr int kHolds = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    SimulatedGpu* gpu = (t % 2 == 0 ? *a : *b).get();
    threads.emplace_back([&, gpu] {
      for (int i = 0; i < kHolds; ++i) {
        gpu->Hold([&] {
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          std::this_thread::yield();  // widens the window in which an overlap would show
          inside.fetch_sub(1);
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(page.page().occupations.load(), uint64_t{kThreads * kHolds});
  EXPECT_EQ(page.page().most_occupants.load(), 1u);
  EXPECT_EQ(page.page().occupants.load(), 0u);
}

// A process that dies holding the device (a killed worker) leaves it free for the next holder.
TEST(SimulatedGpuTest, AHolderThatDiesLeavesTheDeviceFree) {
  Page page;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto gpu = SimulatedGpu::Open(page.Description());
    if (!gpu.ok()) _exit(1);
    (*gpu)->Hold([&] {
      char byte = 1;
      (void)write(ready[1], &byte, 1);
      _exit(0);  // dies holding the mutex
    });
    _exit(2);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(ready[0]);
  close(ready[1]);
  auto gpu = SimulatedGpu::Open(page.Description());
  ASSERT_TRUE(gpu.ok());
  bool held = false;
  (*gpu)->Hold([&] { held = true; });  // would wait forever on a mutex that is not robust
  EXPECT_TRUE(held);
  (*gpu)->Occupy(std::chrono::nanoseconds(0));       // and the device stays usable
  EXPECT_EQ(page.page().most_occupants.load(), 1u);  // the dead holder no longer counts
  EXPECT_EQ(page.page().occupants.load(), 0u);
}

TEST(SimulatedGpuTest, OpenRefusesMalformedDescriptions) {
  for (const char* bad : {"", "7", "7:", ":1", "x:1", "7:0", "7:-1", "-1:1", "7:1x"}) {
    auto gpu = SimulatedGpu::Open(bad);
    ASSERT_FALSE(gpu.ok()) << bad;
    EXPECT_EQ(gpu.status().code(), SY_ERROR_INVALID_ARGUMENT) << bad;
  }
}

// A plugin reads SyInstanceDesc::simulated_gpu only when the host's struct_size covers it: an
// older host's smaller struct ends before it (whatever lies beyond is not the plugin's to read).
TEST(SimulatedGpuTest, SimulatedGpuOfReadsOnlyWhatTheHostsStructCovers) {
  SyInstanceDesc desc = {.struct_size = sizeof(SyInstanceDesc),
                         .name = "m/0",
                         .index = 0,
                         .gpu_count = 1,
                         .cuda_visible_devices = "",
                         .simulated_gpu = "70:1"};
  EXPECT_EQ(SimulatedGpuOf(desc), "70:1");
  desc.struct_size = offsetof(SyInstanceDesc, simulated_gpu);  // a host from before 2026-12-08
  EXPECT_EQ(SimulatedGpuOf(desc), "");
  desc.struct_size = sizeof(SyInstanceDesc);
  desc.simulated_gpu = nullptr;
  EXPECT_EQ(SimulatedGpuOf(desc), "");
}

}  // namespace
}  // namespace switchyard::sdk
