#include "core/check.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

std::string Why(int* evaluated) {
  ++*evaluated;
  return "the message";
}

TEST(CheckTest, AHoldingCheckDoesNotEvaluateItsMessage) {
  int evaluated = 0;
  SY_CHECK(evaluated == 0, Why(&evaluated));
  EXPECT_EQ(evaluated, 0);
}

TEST(CheckTest, AFailingCheckAbortsNamingWhereWhatAndWhy) {
  int evaluated = 0;
  EXPECT_DEATH(SY_CHECK(evaluated == 1, Why(&evaluated)),
               "check failed at .*check_test.cc:[0-9]+: evaluated == 1 \\(the message\\)");
}

}  // namespace
}  // namespace switchyard
