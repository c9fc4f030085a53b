#include "devices/cuda_visible_devices.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

const std::vector<std::string> kUuids = {
    "GPU-aaaaaaaa-1111-2222-3333-444444444444",
    "GPU-bbbbbbbb-1111-2222-3333-444444444444",
    "GPU-abcdef01-1111-2222-3333-444444444444",
};

std::vector<int> Resolve(std::optional<std::string> value) {
  auto visible = ResolveCudaVisibleDevices(value, kUuids);
  EXPECT_TRUE(visible.ok()) << visible.status().ToString();
  return visible.ok() ? *visible : std::vector<int>{-100};
}

std::string Error(std::optional<std::string> value) {
  auto visible = ResolveCudaVisibleDevices(value, kUuids);
  EXPECT_FALSE(visible.ok());
  if (visible.ok()) return "";
  EXPECT_EQ(visible.status().code(), StatusCode::kInvalidArgument);
  return visible.status().message();
}

TEST(CudaVisibleDevicesTest, UnsetMeansEveryGpuInNvmlOrder) {
  EXPECT_THAT(Resolve(std::nullopt), ElementsAre(0, 1, 2));
  auto none = ResolveCudaVisibleDevices(std::nullopt, {});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

TEST(CudaVisibleDevicesTest, EmptyMeansNoGpu) {
  EXPECT_THAT(Resolve(""), IsEmpty());
  EXPECT_THAT(Resolve("  "), IsEmpty());
}

TEST(CudaVisibleDevicesTest, IndicesInTheGivenOrder) {
  EXPECT_THAT(Resolve("1"), ElementsAre(1));
  EXPECT_THAT(Resolve("2,0"), ElementsAre(2, 0));
  EXPECT_THAT(Resolve(" 1 , 2 ,0 "), ElementsAre(1, 2, 0));
}

TEST(CudaVisibleDevicesTest, FullUuidsWithOrWithoutPrefixAnyCase) {
  EXPECT_THAT(Resolve("GPU-bbbbbbbb-1111-2222-3333-444444444444"), ElementsAre(1));
  EXPECT_THAT(
      Resolve("bbbbbbbb-1111-2222-3333-444444444444,gpu-AAAAAAAA-1111-2222-3333-444444444444"),
      ElementsAre(1, 0));
}

TEST(CudaVisibleDevicesTest, UniqueUuidPrefixes) {
  EXPECT_THAT(Resolve("GPU-ab,GPU-b"), ElementsAre(2, 1));
  EXPECT_THAT(Resolve("GPU-aaaa"), ElementsAre(0));
  EXPECT_THAT(Resolve("abc"), ElementsAre(2));
}

TEST(CudaVisibleDevicesTest, MixedIndicesAndUuids) {
  EXPECT_THAT(Resolve("2,GPU-aaaaaaaa"), ElementsAre(2, 0));
}

TEST(CudaVisibleDevicesTest, ANegativeEntryEndsTheListAsInCuda) {
  EXPECT_THAT(Resolve("-1"), IsEmpty());
  EXPECT_THAT(Resolve("0,2,-1,1"), ElementsAre(0, 2));
  EXPECT_THAT(Resolve("1,-1,garbage"), ElementsAre(1));  // nothing after -1 is looked at
}

TEST(CudaVisibleDevicesTest, AnIndexThatDoesNotExistIsAnError) {
  EXPECT_EQ(Error("0,3"),
            "CUDA_VISIBLE_DEVICES entry '3': no GPU has this index (this machine has 3 GPUs: 0-2)");
  EXPECT_THAT(Error("99999999999999999999999"), HasSubstr("no GPU has this index"));
  auto none = ResolveCudaVisibleDevices("0", {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("this machine has no GPU"));
}

TEST(CudaVisibleDevicesTest, AnUnknownOrAmbiguousUuidIsAnError) {
  EXPECT_EQ(Error("GPU-cc"),
            "CUDA_VISIBLE_DEVICES entry 'GPU-cc': no GPU has a UUID that starts with it");
  EXPECT_EQ(Error("GPU-a"),
            "CUDA_VISIBLE_DEVICES entry 'GPU-a': matches 2 GPUs "
            "(GPU-aaaaaaaa-1111-2222-3333-444444444444, GPU-abcdef01-1111-2222-3333-444444444444); "
            "give more of the UUID");
  EXPECT_THAT(Error("GPU-"), HasSubstr("expected a GPU index"));
}

TEST(CudaVisibleDevicesTest, OtherBadEntriesAreErrors) {
  EXPECT_THAT(Error("0,,1"), HasSubstr("entry '': empty entry"));
  EXPECT_THAT(Error("0,"), HasSubstr("empty entry"));
  EXPECT_THAT(Error("gpu0"), HasSubstr("entry 'gpu0': expected a GPU index"));
  EXPECT_THAT(Error("MIG-aaaaaaaa-1111"), HasSubstr("MIG devices are not supported"));
  EXPECT_THAT(Error("1.5"), HasSubstr("expected a GPU index"));
}

TEST(CudaVisibleDevicesTest, AGpuListedTwiceIsAnError) {
  EXPECT_EQ(Error("1,GPU-bbbb"),
            "CUDA_VISIBLE_DEVICES entry 'GPU-bbbb': GPU 1 "
            "(GPU-bbbbbbbb-1111-2222-3333-444444444444) is already listed (as '1')");
  EXPECT_THAT(Error("0,0"), HasSubstr("already listed"));
}

}  // namespace
}  // namespace switchyard
