// SharedMemoryRegistry and the codec's use of it: registration checks, lookups, lifetime after
// unregistering, inputs read from a region and outputs written into one.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "frontend/http/kserve_codec.h"
#include "frontend/http/shared_memory_registry.h"

namespace switchyard::http {
namespace {

using ::testing::HasSubstr;

// A POSIX shared-memory object of `size` bytes, unlinked at the end of the test.
class ShmObject {
 public:
  explicit ShmObject(std::size_t size)
      : key_("/switchyard-unit-" + std::to_string(::getpid()) + "-" + std::to_string(next_++)) {
    const int fd = ::shm_open(key_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    bytes_ =
        static_cast<std::byte*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    size_ = size;
    ::close(fd);
  }
  ~ShmObject() {
    ::munmap(bytes_, size_);
    ::shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  std::byte* bytes() const { return bytes_; }

 private:
  static inline int next_ = 0;
  std::string key_;
  std::byte* bytes_ = nullptr;
  std::size_t size_ = 0;
};

TEST(SharedMemoryRegistryTest, RegisterListFindUnregister) {
  ShmObject object(8192);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register({"r", object.key(), 4100, 1000}).ok());
  auto listed = registry.List(std::nullopt);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, object.key());
  EXPECT_EQ((*listed)[0].offset, 4100u);
  EXPECT_EQ((*listed)[0].byte_size, 1000u);

  // A region that starts inside a page: offsets are the region's, not the object's.
  object.bytes()[4100 + 10] = std::byte{42};
  auto span = registry.Find("r", 10, 1, "inputs[0]");
  ASSERT_TRUE(span.ok()) << span.status().ToString();
  EXPECT_EQ(span->bytes[0], std::byte{42});

  ASSERT_TRUE(registry.Unregister("r").ok());
  EXPECT_EQ(registry.List("r").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry.Find("r", 0, 1, "x").status().code(), StatusCode::kNotFound);
  // Still mapped for whoever holds it: written through to the object.
  span->bytes[0] = std::byte{7};
  EXPECT_EQ(object.bytes()[4110], std::byte{7});
  EXPECT_EQ(registry.Unregister("r").code(), StatusCode::kNotFound);
}

TEST(SharedMemoryRegistryTest, RefusesBadRegistrations) {
  ShmObject object(4096);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register({"taken", object.key(), 0, 16}).ok());
  struct Case {
    SharedMemoryRegionInfo info;
    StatusCode code;
    std::string text;
  };
  const Case cases[] = {
      {{"taken", object.key(), 0, 16}, StatusCode::kAlreadyExists, "already registered"},
      {{"", object.key(), 0, 16}, StatusCode::kInvalidArgument, "must be 1-128"},
      {{"a/b", object.key(), 0, 16}, StatusCode::kInvalidArgument, "must be 1-128"},
      {{std::string(129, 'n'), object.key(), 0, 16}, StatusCode::kInvalidArgument, "1-128"},
      {{"k", "no-slash", 0, 16}, StatusCode::kInvalidArgument, "must be '/'"},
      {{"k", "/a/b", 0, 16}, StatusCode::kInvalidArgument, "without '/'"},
      {{"k", "/..", 0, 16}, StatusCode::kInvalidArgument, "must be '/'"},
      {{"k", "/switchyard-unit-missing", 0, 16}, StatusCode::kNotFound, "cannot open"},
      {{"k", object.key(), 0, 0}, StatusCode::kInvalidArgument, "at least 1"},
      {{"k", object.key(), 4000, 97}, StatusCode::kInvalidArgument, "past the end"},
      {{"k", object.key(), ~uint64_t{0}, 2}, StatusCode::kInvalidArgument, "past the end"},
  };
  for (const Case& c : cases) {
    Status status = registry.Register(c.info);
    EXPECT_EQ(status.code(), c.code) << c.info.name << " " << c.info.key;
    EXPECT_THAT(status.message(), HasSubstr(c.text));
  }
  auto past = registry.Find("taken", 8, 9, "inputs[1]");
  EXPECT_EQ(past.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(past.status().message(), HasSubstr("inputs[1]: shared_memory_offset 8"));
  EXPECT_EQ(registry.Find("taken", ~uint64_t{0}, 2, "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SharedMemoryRegistryTest, RegionCountIsBounded) {
  ShmObject object(4096);
  SharedMemoryRegistry registry;
  for (std::size_t i = 0; i < SharedMemoryRegistry::kMaxRegions; ++i) {
    ASSERT_TRUE(registry.Register({"r" + std::to_string(i), object.key(), 0, 16}).ok());
  }
  EXPECT_EQ(registry.Register({"one-more", object.key(), 0, 16}).code(),
            StatusCode::kFailedPrecondition);
  registry.UnregisterAll();
  EXPECT_TRUE(registry.List(std::nullopt)->empty());
  EXPECT_TRUE(registry.Register({"one-more", object.key(), 0, 16}).ok());
}

ModelConfig TwoFloats() {
  ModelConfig model;
  model.name = "m";
  model.inputs.push_back({"in", DataType::kFp32, {2}});
  model.outputs.push_back({"out", DataType::kFp32, {2}});
  return model;
}

TEST(SharedMemoryCodecTest, InputIsReadFromItsRegionAndOutputWrittenIntoIt) {
  ShmObject object(4096);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register({"io", object.key(), 0, 64}).ok());
  const float in[2] = {1.5f, -2.0f};
  std::memcpy(object.bytes() + 8, in, sizeof in);
  const std::string body =
      R"({"inputs":[{"name":"in","datatype":"FP32","shape":[2],"parameters":)"
      R"({"shared_memory_region":"io","shared_memory_byte_size":8,"shared_memory_offset":8}}],)"
      R"("outputs":[{"name":"out","parameters":)"
      R"({"shared_memory_region":"io","shared_memory_byte_size":16,"shared_memory_offset":32}}]})";
  auto decoded = DecodeInferRequest(body, std::nullopt, TwoFloats(), &registry);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& input = decoded->request->inputs[0];
  ASSERT_EQ(input.data.size(), sizeof in);
  EXPECT_EQ(std::memcmp(input.data.bytes().data(), in, sizeof in), 0);
  object.bytes()[8] = std::byte{0x5a};  // read where it lies (the server's own mapping), no copy
  EXPECT_EQ(input.data.bytes()[0], std::byte{0x5a});
  EXPECT_TRUE(input.data.owned());  // the region stays mapped while the tensor lives

  InferResponse response;
  response.model_name = "m";
  const float out[2] = {3.0f, 4.0f};
  response.outputs.push_back(
      {"out",
       DataType::kFp32,
       {2},
       TensorData::Owned({reinterpret_cast<const std::byte*>(out),
                          reinterpret_cast<const std::byte*>(out) + sizeof out})});
  auto encoded = EncodeInferResponse(response, decoded->output_encoding);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_FALSE(encoded->json_length);
  EXPECT_THAT(encoded->body,
              HasSubstr(R"("parameters":{"shared_memory_region":"io","shared_memory_byte_size":8,)"
                        R"("shared_memory_offset":32})"));
  EXPECT_THAT(encoded->body, ::testing::Not(HasSubstr("\"data\"")));
  EXPECT_EQ(std::memcmp(object.bytes() + 32, out, sizeof out), 0);
}

// A client that truncates its object under a request cannot end the server, and cannot get an
// answer computed from the zeros the server then reads: the request's answer is refused, and so
// is every later request that names the region, until it is registered again.
TEST(SharedMemoryCodecTest, RegionTruncatedUnderARequestIsRefusedNotCrashedOn) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ShmObject object(2 * page);
  SharedMemoryRegistry registry;
  ASSERT_TRUE(registry.Register({"io", object.key(), 0, 2 * page}).ok());
  const std::string input = R"({"inputs":[{"name":"in","datatype":"FP32","shape":[2],)"
                            R"("parameters":{"shared_memory_region":"io",)"
                            R"("shared_memory_byte_size":8,"shared_memory_offset":)" +
                            std::to_string(page) + "}}]}";
  auto decoded = DecodeInferRequest(input, std::nullopt, TwoFloats(), &registry);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(CheckInputRegions(decoded->input_regions).ok());

  ASSERT_EQ(::truncate(("/dev/shm" + object.key()).c_str(), 0), 0);
  const Tensor& tensor = decoded->request->inputs[0];
  EXPECT_EQ(tensor.data.bytes()[0], std::byte{0});  // what the backend reads: zeros, no SIGBUS
  Status checked = CheckInputRegions(decoded->input_regions);
  EXPECT_EQ(checked.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(checked.message(), HasSubstr("'io' was truncated by its owner"));

  auto again = DecodeInferRequest(input, std::nullopt, TwoFloats(), &registry);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("was truncated by its owner"));
}

TEST(SharedMemoryCodecTest, ReferencesAreRefusedWithoutARegistry) {
  const std::string body = R"({"inputs":[{"name":"in","datatype":"FP32","shape":[2],"parameters":)"
                           R"({"shared_memory_region":"io","shared_memory_byte_size":8}}]})";
  auto decoded = DecodeInferRequest(body, std::nullopt, TwoFloats(), nullptr);
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr("--allow-shared-memory"));
}

}  // namespace
}  // namespace switchyard::http
