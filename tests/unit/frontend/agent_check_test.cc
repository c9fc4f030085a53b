#include "frontend/agent/agent_check.h"

#include <gtest/gtest.h>

namespace switchyard::agent {
namespace {

TEST(AgentCheckTest, TheLineSaysUpWithTheFreeShareDrainOrDown) {
  EXPECT_EQ(AgentLine(true, false, 0.0), "up ready 100%\n");
  EXPECT_EQ(AgentLine(true, false, 0.25), "up ready 75%\n");
  EXPECT_EQ(AgentLine(true, false, 1.0), "up ready 1%\n");  // full, but still in the pool
  EXPECT_EQ(AgentLine(true, true, 0.5), "drain\n");         // shutting down wins
  EXPECT_EQ(AgentLine(false, true, 0.0), "drain\n");
  EXPECT_EQ(AgentLine(false, false, 0.0), "down\n");
}

}  // namespace
}  // namespace switchyard::agent
