#include "supervisor/process_tree.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

namespace switchyard {
namespace {

bool Contains(const std::vector<long>& pids, long pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// A child that starts a grandchild; both wait until the pipe closes. The grandchild's pid comes
// back through a second pipe, once it runs.
class TwoGenerations {
 public:
  TwoGenerations() {
    EXPECT_EQ(pipe(hold_), 0);
    EXPECT_EQ(pipe(report_), 0);
    child_ = fork();
    if (child_ == 0) {
      close(hold_[1]);
      pid_t grandchild = fork();
      if (grandchild == 0) {
        char byte;
        (void)!read(hold_[0], &byte, 1);  // until the test closes the pipe
        _exit(0);
      }
      (void)!write(report_[1], &grandchild, sizeof(grandchild));
      char byte;
      (void)!read(hold_[0], &byte, 1);
      waitpid(grandchild, nullptr, 0);
      _exit(0);
    }
    close(hold_[0]);
    close(report_[1]);
    EXPECT_EQ(read(report_[0], &grandchild_, sizeof(grandchild_)),
              static_cast<ssize_t>(sizeof(grandchild_)));
    close(report_[0]);
  }
  ~TwoGenerations() {
    close(hold_[1]);
    waitpid(child_, nullptr, 0);
  }
  pid_t child() const { return child_; }
  pid_t grandchild() const { return grandchild_; }

 private:
  int hold_[2] = {-1, -1};
  int report_[2] = {-1, -1};
  pid_t child_ = -1;
  pid_t grandchild_ = -1;
};

TEST(ProcessTreeTest, AProcessWithItsChildrenAndTheirs) {
  TwoGenerations family;
  const std::vector<long> tree = ProcessTree(getpid());
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), getpid());
  EXPECT_TRUE(Contains(tree, family.child()));
  EXPECT_TRUE(Contains(tree, family.grandchild()));
  const std::vector<long> from_child = ProcessTree(family.child());
  EXPECT_EQ(from_child, (std::vector<long>{family.child(), family.grandchild()}));
}

TEST(ProcessTreeTest, BoundedAndEmptyForAProcessThatIsNotRunning) {
  TwoGenerations family;
  EXPECT_EQ(ProcessTree(family.child(), 1), (std::vector<long>{family.child()}));
  EXPECT_TRUE(ProcessTree(0).empty());
  EXPECT_TRUE(ProcessTree(-1).empty());
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  EXPECT_TRUE(ProcessTree(gone).empty());
}

}  // namespace
}  // namespace switchyard
