#include "exec/exec_parameters.h"

#include <gtest/gtest.h>

namespace switchyard::exec {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

StatusOr<ExecParameters> Parse(const Params& params) {
  return ParseExecParameters(params, "/tmp", "/usr/bin:/bin");
}

TEST(ExecParametersTest, DefaultsWithOnlyACommand) {
  auto p = Parse({{"command", "/bin/sh -c 'exit 0'"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->program, "/bin/sh");
  EXPECT_EQ(p->argv, (std::vector<std::string>{"/bin/sh", "-c", "exit 0"}));
  EXPECT_EQ(p->mode, Mode::kPersistent);
  EXPECT_EQ(p->timeout_ms, 60000);
  EXPECT_EQ(p->startup_timeout_ms, 30000);
  EXPECT_EQ(p->stderr_tail_lines, 20);
}

TEST(ExecParametersTest, AllKeys) {
  auto p = Parse({{"command", "sh"},
                  {"mode", "per_request"},
                  {"timeout_ms", "250"},
                  {"stderr_tail_lines", "0"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->program, "/usr/bin/sh");
  EXPECT_EQ(p->argv[0], "sh");
  EXPECT_EQ(p->mode, Mode::kPerRequest);
  EXPECT_EQ(p->timeout_ms, 250);
  EXPECT_EQ(p->stderr_tail_lines, 0);
  auto q = Parse({{"command", "sh"}, {"mode", "persistent"}, {"startup_timeout_ms", "7"}});
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->startup_timeout_ms, 7);
}

TEST(ExecParametersTest, UnknownKeyNamesItAndListsKnownOnes) {
  auto p = Parse({{"command", "sh"}, {"comand", "x"}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(p.status().message().find("unknown key 'comand'"), std::string::npos);
  EXPECT_NE(
      p.status().message().find("command, mode, timeout_ms, startup_timeout_ms, stderr_tail_lines"),
      std::string::npos)
      << p.status().message();
}

TEST(ExecParametersTest, CommandIsRequired) {
  auto p = Parse({{"mode", "persistent"}});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("parameters.command is required"), std::string::npos);
}

TEST(ExecParametersTest, BadValuesNameTheKey) {
  struct Case {
    Params params;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {{{"command", "sh"}, {"mode", "batch"}}, "parameters.mode: unknown mode 'batch'"},
           {{{"command", "sh"}, {"timeout_ms", "0"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"timeout_ms", "1.5"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"timeout_ms", "-3"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"timeout_ms", "99999999999999999999"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"stderr_tail_lines", "1001"}}, "parameters.stderr_tail_lines"},
           {{{"command", "sh"}, {"mode", "per_request"}, {"startup_timeout_ms", "5"}},
            "applies only to mode: persistent"},
           {{{"command", "'unterminated"}}, "parameters.command: command has an unterminated"},
           {{{"command", ""}}, "parameters.command: command is empty"},
           {{{"command", "no-such-program-xyz"}},
            "parameters.command: program no-such-program-xyz"},
       }) {
    auto p = Parse(c.params);
    ASSERT_FALSE(p.ok()) << c.expect;
    EXPECT_EQ(p.status().code(), SY_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace switchyard::exec
