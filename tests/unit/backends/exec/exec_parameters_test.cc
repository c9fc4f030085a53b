#include "exec/exec_parameters.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace switchyard::exec {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

sdk::StatusOr<ExecParameters> Parse(const Params& params) {
  return ParseExecParameters(params, "/tmp", "/usr/bin:/bin");
}

TEST(ExecParametersTest, DefaultsWithOnlyACommand) {
  auto p = Parse({{"command", "/bin/sh -c 'exit 0'"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->program, "/bin/sh");
  EXPECT_EQ(p->argv, (std::vector<std::string>{"/bin/sh", "-c", "exit 0"}));
  EXPECT_EQ(p->mode, Mode::kPersistent);
  EXPECT_EQ(p->timeout_ms, 0);  // no limit
  EXPECT_TRUE(p->program_parameters.empty());
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
  auto q = Parse({{"command", "sh"},
                  {"mode", "persistent"},
                  {"startup_timeout_ms", "7"},
                  {"recycle_requests", "1000"},
                  {"recycle_rss_mb", "2048"},
                  {"shared_memory_mb", "0"}});
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->startup_timeout_ms, 7);
  EXPECT_EQ(q->recycle_requests, 1000);
  EXPECT_EQ(q->recycle_rss_mb, 2048);
  EXPECT_EQ(q->shared_memory_mb, 0);
  EXPECT_EQ(p->shared_memory_mb, 128);  // the default
}

TEST(ExecParametersTest, UnknownKeyNamesItAndListsKnownOnes) {
  auto p = Parse({{"command", "sh"}, {"comand", "x"}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(p.status().message().find("unknown key 'comand'"), std::string::npos);
  EXPECT_NE(p.status().message().find("command, mode, timeout_ms, startup_timeout_ms, "
                                      "stderr_tail_lines, recycle_requests, recycle_rss_mb, "
                                      "shared_memory_mb"),
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
           {{{"command", "sh"}, {"timeout_ms", "1.5"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"timeout_ms", "-3"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"timeout_ms", "99999999999999999999"}}, "parameters.timeout_ms"},
           {{{"command", "sh"}, {"stderr_tail_lines", "1001"}}, "parameters.stderr_tail_lines"},
           {{{"command", "sh"}, {"mode", "per_request"}, {"startup_timeout_ms", "5"}},
            "apply only to mode: persistent"},
           {{{"command", "sh"}, {"mode", "per_request"}, {"recycle_requests", "5"}},
            "apply only to mode: persistent"},
           {{{"command", "sh"}, {"recycle_rss_mb", "-1"}}, "parameters.recycle_rss_mb"},
           {{{"command", "sh"}, {"shared_memory_mb", "65537"}}, "parameters.shared_memory_mb"},
           {{{"command", "sh"}, {"mode", "per_request"}, {"shared_memory_mb", "64"}},
            "apply only to mode: persistent"},
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

TEST(ExecParametersTest, NoTimeoutMeansNoDeadline) {
  ExecParameters p;
  EXPECT_EQ(RunDeadline(p), std::chrono::steady_clock::time_point::max());
  p.timeout_ms = 5;
  EXPECT_LT(RunDeadline(p), std::chrono::steady_clock::now() + std::chrono::seconds(1));
}

// A version folder with model.py and a runner script, removed at the end.
class PythonParametersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sy_python_params_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "model.py") << "class Model:\n  def predict(self, x): return x\n";
    std::ofstream(dir_ / "runner.py") << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  sdk::StatusOr<ExecParameters> Parse(const Params& params) {
    return ParsePythonParameters(params, dir_.string(), "/usr/bin:/bin",
                                 (dir_ / "runner.py").string());
  }
  std::filesystem::path dir_;
};

TEST_F(PythonParametersTest, RunsTheRunnerOnModelPyAndPassesTheModelsOwnKeys) {
  auto p = Parse({{"topk", "5"}, {"timeout_ms", "9"}, {"weights", "w.pt"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->program, "/usr/bin/python3");
  EXPECT_EQ(p->argv,
            (std::vector<std::string>{"python3", (dir_ / "runner.py").string(), "model.py"}));
  EXPECT_EQ(p->mode, Mode::kPersistent);
  EXPECT_EQ(p->timeout_ms, 9);
  EXPECT_EQ(p->startup_timeout_ms, 300000);
  EXPECT_EQ(p->program_parameters, (Params{{"topk", "5"}, {"weights", "w.pt"}}));
}

TEST_F(PythonParametersTest, InterpreterFileAndClassAreChosenByTheConfig) {
  std::ofstream(dir_ / "other.py") << "\n";
  auto p = Parse({{"python", "/bin/sh"}, {"python_file", "other.py"}, {"python_class", "Net"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->program, "/bin/sh");
  EXPECT_EQ(p->argv, (std::vector<std::string>{"/bin/sh", (dir_ / "runner.py").string(), "other.py",
                                               "Net"}));
}

TEST_F(PythonParametersTest, MistakesAreNamed) {
  struct Case {
    Params params;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {{{"command", "sh"}}, "parameters.command is not for a python model"},
           {{{"mode", "per_request"}}, "parameters.mode is not for a python model"},
           {{{"python_file", "missing.py"}}, "missing.py does not exist in the version folder"},
           {{{"python_file", "../model.py"}}, "must be the name of a file in the version folder"},
           {{{"python", "no-such-python-xyz"}}, "parameters.python: program no-such-python-xyz"},
       }) {
    auto p = Parse(c.params);
    ASSERT_FALSE(p.ok()) << c.expect;
    EXPECT_EQ(p.status().code(), SY_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos) << p.status().message();
  }
  std::filesystem::remove(dir_ / "runner.py");
  auto p = Parse({});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), SY_ERROR_UNAVAILABLE);
  EXPECT_NE(p.status().message().find("the Python runner"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::exec
