#include "exec/stderr_tail.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::exec {
namespace {

TEST(StderrTailTest, SplitsLinesAcrossFeedsAndKeepsTheLastOnes) {
  std::vector<std::string> logged;
  StderrTail tail(2, [&](std::string_view line) { logged.emplace_back(line); });
  tail.Feed("one\ntw");
  tail.Feed("o\r\nthree\n");
  tail.Feed("four");
  EXPECT_EQ(logged, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(tail.Text(), "two\nthree\n");
  tail.Finish();
  EXPECT_EQ(logged.back(), "four");
  EXPECT_EQ(tail.Text(), "three\nfour\n");
}

TEST(StderrTailTest, LongLinesAreCut) {
  std::vector<std::string> logged;
  StderrTail tail(10, [&](std::string_view line) { logged.emplace_back(line); });
  tail.Feed(std::string(StderrTail::kMaxLineBytes * 2 + 5, 'x'));
  tail.Feed("\n");
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[0].size(), StderrTail::kMaxLineBytes);
  EXPECT_EQ(logged[1].size(), StderrTail::kMaxLineBytes);
  EXPECT_EQ(logged[2].size(), 5u);
}

TEST(StderrTailTest, ZeroLinesKeepsNothingButStillLogs) {
  int count = 0;
  StderrTail tail(0, [&](std::string_view) { ++count; });
  tail.Feed("a\nb\n");
  EXPECT_EQ(count, 2);
  EXPECT_EQ(tail.Text(), "");
}

}  // namespace
}  // namespace switchyard::exec
