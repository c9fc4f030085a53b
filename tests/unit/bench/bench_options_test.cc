#include "bench/bench_options.h"

#include <gtest/gtest.h>

namespace switchyard::bench {
namespace {

std::vector<int> Levels(std::string_view text) {
  auto levels = ParseConcurrency(text);
  EXPECT_TRUE(levels.ok()) << levels.status().ToString();
  return levels.ok() ? *levels : std::vector<int>{};
}

TEST(ParseConcurrencyTest, SingleNumber) { EXPECT_EQ(Levels("64"), std::vector<int>{64}); }

TEST(ParseConcurrencyTest, ListKeepsOrder) {
  EXPECT_EQ(Levels("1,8,64"), (std::vector<int>{1, 8, 64}));
  EXPECT_EQ(Levels("8,1"), (std::vector<int>{8, 1}));
}

TEST(ParseConcurrencyTest, RangeIsPowersOfTwo) {
  EXPECT_EQ(Levels("1:64"), (std::vector<int>{1, 2, 4, 8, 16, 32, 64}));
  EXPECT_EQ(Levels("4:4"), (std::vector<int>{4}));
}

TEST(ParseConcurrencyTest, RangeEndsAtItsUpperBound) {
  EXPECT_EQ(Levels("3:20"), (std::vector<int>{3, 6, 12, 20}));
}

TEST(ParseConcurrencyTest, RejectsBadInput) {
  for (std::string_view bad :
       {"", "0", "-1", "x", "1,,2", "1,", "64:1", "1:", ":8", "1:2:4", "65537", "1.5", " 4"}) {
    auto levels = ParseConcurrency(bad);
    EXPECT_FALSE(levels.ok()) << "'" << bad << "'";
    if (!levels.ok()) {
      EXPECT_EQ(levels.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseRequestRatesTest, OneOrAList) {
  auto one = ParseRequestRates("2800");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<double>{2800});
  auto list = ParseRequestRates("100,0.5,17500");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<double>{100, 0.5, 17500}));
}

TEST(ParseRequestRatesTest, RejectsBadInput) {
  for (std::string_view bad :
       {"", "0", "-5", "x", "1,,2", "1,", "nan", "inf", "1e8", " 4", "5/s"}) {
    auto rates = ParseRequestRates(bad);
    EXPECT_FALSE(rates.ok()) << "'" << bad << "'";
  }
}

TEST(ValidateOptionsTest, OpenLoopNeedsItsInputs) {
  BenchOptions options;
  options.model = "m";
  EXPECT_TRUE(ValidateOptions(options).ok());
  options.mode = LoadMode::kRate;
  EXPECT_FALSE(ValidateOptions(options).ok());  // no rate
  options.request_rates = {100};
  EXPECT_TRUE(ValidateOptions(options).ok());
  options.connections = 0;
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.connections = 256;
  options.mode = LoadMode::kSchedule;
  EXPECT_FALSE(ValidateOptions(options).ok());  // no schedule
  options.schedule = {Duration(0)};
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(ParseShapeOverrideTest, NameAndDims) {
  auto shape = ParseShapeOverride("INPUT0:3,224,224");
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->input, "INPUT0");
  EXPECT_EQ(shape->dims, (Shape{3, 224, 224}));
}

TEST(ParseShapeOverrideTest, LastColonSeparates) {
  auto shape = ParseShapeOverride("ns:input:0");
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->input, "ns:input");
  EXPECT_EQ(shape->dims, (Shape{0}));
}

TEST(ParseShapeOverrideTest, RejectsBadInput) {
  for (std::string_view bad : {"INPUT0", ":4", "INPUT0:", "INPUT0:-1", "INPUT0:2,x", "IN:2,"}) {
    EXPECT_FALSE(ParseShapeOverride(bad).ok()) << "'" << bad << "'";
  }
}

TEST(ValidateOptionsTest, DefaultsWithAModelAreValid) {
  BenchOptions options;
  EXPECT_FALSE(ValidateOptions(options).ok());  // no model
  options.model = "simple";
  EXPECT_TRUE(ValidateOptions(options).ok());
  options.stability = 0;
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.stability = 0.1;
  options.max_windows = 0;
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.max_windows = 6;
  options.poll = -std::chrono::microseconds(1);
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.poll = std::chrono::microseconds(20000);
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(ParseGrpcAddressTest, HostAndPortWithOrWithoutScheme) {
  EXPECT_EQ(*ParseGrpcAddress("grpc://127.0.0.1:8001"), "127.0.0.1:8001");
  EXPECT_EQ(*ParseGrpcAddress("localhost:9000/"), "localhost:9000");
  EXPECT_EQ(*ParseGrpcAddress("[::1]:8001"), "[::1]:8001");
}

TEST(ParseGrpcAddressTest, RejectsOtherSchemesAndBadPorts) {
  for (const char* url : {"http://127.0.0.1:8001", "127.0.0.1", "grpc://:8001", "host:0",
                          "host:65536", "host:80x", "grpc://host:8001/path"}) {
    EXPECT_EQ(ParseGrpcAddress(url).status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(ValidateOptionsTest, GrpcTakesNoHttpBodyFormat) {
  BenchOptions options;
  options.model = "simple";
  options.protocol = Protocol::kGrpc;
  EXPECT_TRUE(ValidateOptions(options).ok());
  options.format = BodyFormat::kBinary;
  EXPECT_EQ(ValidateOptions(options).code(), StatusCode::kInvalidArgument);
  options.format = BodyFormat::kJson;
  options.grpc_channels = -1;
  EXPECT_EQ(ValidateOptions(options).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchyard::bench
