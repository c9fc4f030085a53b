#include "frontend/http/json_path.h"

#include <gtest/gtest.h>

namespace switchyard::http {
namespace {

TEST(JsonPathTest, NamesMembersAndElementsAsTheRequestSpellsThem) {
  const JsonPath inputs("inputs");
  const JsonPath input = inputs.Index(3);
  EXPECT_EQ(inputs.Text(), "inputs");
  EXPECT_EQ(input.Text(), "inputs[3]");
  EXPECT_EQ(input.Member("shape").Index(0).Text(), "inputs[3].shape[0]");
  EXPECT_EQ(input.Member("parameters").Member("binary_data_size").Text(),
            "inputs[3].parameters.binary_data_size");
  EXPECT_EQ(JsonPath("parameters.priority").Text(), "parameters.priority");
}

}  // namespace
}  // namespace switchyard::http
