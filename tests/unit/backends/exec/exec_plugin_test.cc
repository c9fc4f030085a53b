// The exec plugin end to end through its C ABI: dlopen'ed by a fake host (fake_host.h), running
// real Python programs (programs/*.py, using clients/python/switchyard_exec.py) in both modes.
// Needs /usr/bin/python3 with numpy; skipped otherwise.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "fake_host.h"

namespace switchyard::exec::testing {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct ErrorPtr {
  std::unique_ptr<SyError> error;
  explicit operator bool() const { return error != nullptr; }
  std::string message() const { return error ? error->message : "(none)"; }
};

std::string Int32Bytes(const std::vector<int32_t>& values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::vector<int32_t> Int32Values(const std::string& data) {
  std::vector<int32_t> out(data.size() / 4);
  std::memcpy(out.data(), data.data(), out.size() * 4);
  return out;
}

std::string BytesElements(std::initializer_list<std::string> elements) {
  std::string out;
  for (const std::string& e : elements) {
    uint32_t n = static_cast<uint32_t>(e.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += e;
  }
  return out;
}

// True when `haystack` holds `needle`. EXEC_TEST_VERBOSE=1 prints every message checked, to
// review their wording.
bool Contains(const std::string& haystack, const std::string& needle) {
  if (std::getenv("EXEC_TEST_VERBOSE") != nullptr)
    std::fprintf(stderr, "%s\n---\n", haystack.c_str());
  return haystack.find(needle) != std::string::npos;
}

class ExecPluginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    python_ok_ = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    setenv("PYTHONPATH", EXEC_TEST_CLIENTS_DIR, 1);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);  // no __pycache__ in the source tree
    abi_ = LoadPlugin(EXEC_TEST_PLUGIN_PATH);
    ASSERT_NE(abi_.handle, nullptr);
    ASSERT_EQ(abi_.api_version(), SY_BACKEND_API_VERSION);
    SyError* e = abi_.backend_init(FakeHostApi(), &backend_);
    ASSERT_EQ(e, nullptr) << e->message;
  }
  static void TearDownTestSuite() {
    if (abi_.backend_fini != nullptr) abi_.backend_fini(backend_);
  }

  void SetUp() override {
    if (!python_ok_) GTEST_SKIP() << kPython << " with numpy is not available";
  }
  void TearDown() override {
    for (void* i : instances_) abi_.instance_fini(i);
    for (void* m : models_) abi_.model_fini(m);
  }

  static FakeModel AddSubModel(const std::string& mode) {
    FakeModel m;
    m.version_dir = EXEC_TEST_PROGRAMS_DIR;
    m.model_dir = m.version_dir;
    m.max_batch_size = 8;
    m.inputs = {{"INPUT0", SY_TYPE_INT32, {4}}, {"INPUT1", SY_TYPE_INT32, {4}}};
    m.outputs = {{"OUTPUT0", SY_TYPE_INT32, {4}}, {"OUTPUT1", SY_TYPE_INT32, {4}}};
    m.parameters = {{"command", std::string(kPython) + " add_sub.py"}, {"mode", mode}};
    return m;
  }

  static FakeRequest AddSubRequest(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    FakeRequest r;
    int64_t batch = static_cast<int64_t>(a.size() / 4);
    r.inputs = {{"INPUT0", SY_TYPE_INT32, {batch, 4}, Int32Bytes(a)},
                {"INPUT1", SY_TYPE_INT32, {batch, 4}, Int32Bytes(b)}};
    return r;
  }

  // SyModelInit; on failure returns nullptr and fills *error.
  void* InitModel(FakeModel& model, ErrorPtr* error = nullptr) {
    void* state = nullptr;
    SyError* e = abi_.model_init(backend_, &model.Desc(), &state);
    if (e != nullptr) {
      if (error != nullptr) {
        error->error.reset(e);
      } else {
        ADD_FAILURE() << "SyModelInit failed: " << e->message;
        delete e;
      }
      return nullptr;
    }
    models_.push_back(state);
    return state;
  }

  void* InitInstance(void* model, ErrorPtr* error = nullptr) {
    SyInstanceDesc desc;
    std::memset(&desc, 0, sizeof(desc));
    desc.struct_size = sizeof(desc);
    desc.name = "test_model/0";
    void* state = nullptr;
    SyError* e = abi_.instance_init(model, &desc, &state);
    if (e != nullptr) {
      if (error != nullptr) {
        error->error.reset(e);
      } else {
        ADD_FAILURE() << "SyInstanceInit failed: " << e->message;
        delete e;
      }
      return nullptr;
    }
    instances_.push_back(state);
    return state;
  }

  // An instance of identity.py for one variable-size FP32 input, BIG, with a shared input
  // region of `shared_memory_mb`.
  void* BigIdentity(const std::string& shared_memory_mb) {
    FakeModel m;
    m.version_dir = EXEC_TEST_PROGRAMS_DIR;
    m.model_dir = m.version_dir;
    m.max_batch_size = 4;
    m.inputs = {{"BIG", SY_TYPE_FP32, {-1}}};
    m.outputs = {{"OUT_BIG", SY_TYPE_FP32, {-1}}};
    m.parameters = {{"command", std::string(kPython) + " identity.py"},
                    {"shared_memory_mb", shared_memory_mb}};
    void* model = InitModel(m);
    return model == nullptr ? nullptr : InitInstance(model);
  }

  void* AddSubInstance(const std::string& mode,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
    FakeModel m = AddSubModel(mode);
    for (auto& p : extra) m.parameters.push_back(p);
    void* model = InitModel(m);
    return model == nullptr ? nullptr : InitInstance(model);
  }

  ErrorPtr Execute(void* instance, SyBatch& batch) {
    ErrorPtr e;
    e.error.reset(abi_.instance_execute(instance, &batch));
    return e;
  }

  // Checks request `r` answered add/sub of its inputs on the requested outputs.
  static void ExpectAddSub(const FakeRequest& r, std::vector<bool> requested = {true, true}) {
    ASSERT_EQ(r.error, nullptr) << r.error->message;
    std::vector<int32_t> a = Int32Values(r.inputs[0].data);
    std::vector<int32_t> b = Int32Values(r.inputs[1].data);
    for (uint32_t o = 0; o < 2; ++o) {
      if (!requested[o]) {
        EXPECT_EQ(r.outputs.count(o), 0u);
        continue;
      }
      ASSERT_EQ(r.outputs.count(o), 1u) << "output " << o;
      EXPECT_EQ(r.outputs.at(o).shape, r.inputs[0].shape);
      std::vector<int32_t> got = Int32Values(r.outputs.at(o).data);
      ASSERT_EQ(got.size(), a.size());
      for (size_t i = 0; i < a.size(); ++i) {
        // Two's complement wrap-around, as numpy's int32 arithmetic does.
        uint32_t ua = static_cast<uint32_t>(a[i]);
        uint32_t ub = static_cast<uint32_t>(b[i]);
        int32_t expect = static_cast<int32_t>(o == 0 ? ua + ub : ua - ub);
        EXPECT_EQ(got[i], expect) << "output " << o << " [" << i << "]";
      }
    }
  }

  // Runs `batches` batches of `requests` add/sub requests each on `instance`; each must succeed.
  void RunAddSubBatches(void* instance, int batches, int requests) {
    for (int b = 0; b < batches; ++b) {
      SyBatch batch;
      for (int r = 0; r < requests; ++r) {
        batch.requests.push_back(AddSubRequest({1, 2, 3, r}, {5, 6, 7, 8}));
      }
      ErrorPtr e = Execute(instance, batch);
      ASSERT_FALSE(e) << "batch " << b << ": " << e.message();
      for (const FakeRequest& request : batch.requests) ExpectAddSub(request);
    }
  }

  // Folders the per_request runs announced ("exec dir: ..." on stderr) so far.
  static std::vector<std::string> AnnouncedDirs() {
    std::vector<std::string> dirs;
    for (const std::string& line : LoggedLines()) {
      size_t pos = line.find("exec dir: ");
      if (pos != std::string::npos) dirs.push_back(line.substr(pos + 10));
    }
    return dirs;
  }

  static inline PluginAbi abi_;
  static inline void* backend_ = nullptr;
  static inline bool python_ok_ = false;
  std::vector<void*> models_;
  std::vector<void*> instances_;
};

class BothModesTest : public ExecPluginTest, public ::testing::WithParamInterface<std::string> {};

INSTANTIATE_TEST_SUITE_P(Modes, BothModesTest, ::testing::Values("persistent", "per_request"));

TEST_P(BothModesTest, AddsAndSubtractsABatch) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {10, 20, 30, 40}));
  batch.requests.push_back(AddSubRequest({5, 6, 7, 8, 9, 10, 11, 12}, {1, 1, 1, 1, 2, 2, 2, 2}));
  batch.requests.push_back(
      AddSubRequest({INT32_MAX, INT32_MIN, 0, -7}, {0, 0, INT32_MAX, -INT32_MAX}));
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  for (const FakeRequest& r : batch.requests) ExpectAddSub(r);
  // Program output reached the host log, tagged with the instance.
  bool saw_start = false;
  bool saw_print = false;
  for (const std::string& line : LoggedLines()) {
    saw_start = saw_start || line.rfind("[exec test_model/0] add_sub starting", 0) == 0;
    saw_print = saw_print || Contains(line, "this goes to stderr too");
  }
  EXPECT_TRUE(saw_start);
  EXPECT_TRUE(saw_print);
}

TEST_P(BothModesTest, RequestParametersReachTheProgram) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {0, 0, 0, 0}));
  batch.requests.back().parameters = {{"add", "10"}, {"unused", "x"}};
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {0, 0, 0, 0}));  // none: adds nothing
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  ASSERT_EQ(batch.requests[0].error, nullptr) << batch.requests[0].error->message;
  EXPECT_EQ(Int32Values(batch.requests[0].outputs.at(0).data),
            (std::vector<int32_t>{11, 12, 13, 14}));
  ExpectAddSub(batch.requests[1]);
}

TEST_P(BothModesTest, OnlyRequestedOutputsAreAllocated) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {4, 3, 2, 1}));
  batch.requests[0].requested = {false, true};
  ASSERT_FALSE(Execute(instance, batch));
  ExpectAddSub(batch.requests[0], {false, true});
}

TEST_P(BothModesTest, ExceptionsAndBadOutputsFailOnlyTheirRequest) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 1, 1, 1}, {1, 1, 1, 1}));
  batch.requests.push_back(AddSubRequest({-1, 0, 0, 0}, {0, 0, 0, 0}));
  batch.requests.push_back(AddSubRequest({-2, 0, 0, 0}, {0, 0, 0, 0}));
  batch.requests.push_back(AddSubRequest({-5, 0, 0, 0}, {0, 0, 0, 0}));
  batch.requests.push_back(AddSubRequest({3, 3, 3, 3}, {1, 1, 1, 1}));
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  ExpectAddSub(batch.requests[0]);
  ExpectAddSub(batch.requests[4]);
  const auto& invalid = batch.requests[1].error;
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->code, SY_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(invalid->message, "negative marker")) << invalid->message;
  const auto& broke = batch.requests[2].error;
  ASSERT_NE(broke, nullptr);
  EXPECT_EQ(broke->code, SY_ERROR_INTERNAL);
  EXPECT_TRUE(Contains(broke->message, "ValueError: the model broke")) << broke->message;
  const auto& shape = batch.requests[3].error;
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->code, SY_ERROR_INTERNAL);
  EXPECT_TRUE(Contains(shape->message, "output 'OUTPUT0': the program returned shape [3]"))
      << shape->message;
  EXPECT_TRUE(batch.requests[3].outputs.empty());
}

TEST_P(BothModesTest, AllDatatypesMakeTheRoundTrip) {
  FakeModel m;
  m.version_dir = EXEC_TEST_PROGRAMS_DIR;
  m.model_dir = m.version_dir;
  m.max_batch_size = 0;  // no batch dimension
  struct Input {
    std::string name;
    SyDataType datatype;
    std::vector<int64_t> shape;
    std::string data;
  };
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::vector<Input> inputs = {
      {"B", SY_TYPE_BOOL, {2, 2}, std::string("\x01\x00\x00\x01", 4)},
      {"U8", SY_TYPE_UINT8, {256}, all_bytes},
      {"U16", SY_TYPE_UINT16, {3}, std::string("\xff\xff\x00\x01\x02\x03", 6)},
      {"U32", SY_TYPE_UINT32, {1}, std::string("\xff\xff\xff\xff", 4)},
      {"U64", SY_TYPE_UINT64, {2}, all_bytes.substr(100, 16)},
      {"I8", SY_TYPE_INT8, {4}, all_bytes.substr(126, 4)},
      {"I16", SY_TYPE_INT16, {2}, all_bytes.substr(0, 4)},
      {"I32", SY_TYPE_INT32, {2}, all_bytes.substr(200, 8)},
      {"I64", SY_TYPE_INT64, {1, 1}, all_bytes.substr(248, 8)},
      {"F16", SY_TYPE_FP16, {2}, std::string("\x00\x3c\x01\x7e", 4)},  // 1.0, a NaN payload
      {"BF16", SY_TYPE_BF16, {2}, std::string("\x80\x3f\x81\xff", 4)},
      {"F32", SY_TYPE_FP32, {2}, std::string("\x00\x00\x80\x3f\x01\x00\xc0\x7f", 8)},
      {"F64", SY_TYPE_FP64, {1}, all_bytes.substr(8, 8)},
      {"S", SY_TYPE_BYTES, {3}, BytesElements({"", "hello", std::string("\x00\xff\n", 3)})},
      {"EMPTY", SY_TYPE_FP32, {0}, ""},
  };
  for (const Input& in : inputs) {
    std::vector<int64_t> dims = in.shape;
    if (in.name == "S") dims = {-1};
    m.inputs.push_back({in.name, in.datatype, dims});
    m.outputs.push_back({"OUT_" + in.name, in.datatype, dims});
  }
  m.parameters = {{"command", std::string(kPython) + " identity.py"}, {"mode", GetParam()}};
  void* model = InitModel(m);
  ASSERT_NE(model, nullptr);
  void* instance = InitInstance(model);
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.emplace_back();
  for (const Input& in : inputs) {
    batch.requests[0].inputs.push_back({in.name, in.datatype, in.shape, in.data});
  }
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  const FakeRequest& r = batch.requests[0];
  ASSERT_EQ(r.error, nullptr) << r.error->message;
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(r.outputs.count(i), 1u) << inputs[i].name;
    EXPECT_EQ(r.outputs.at(i).shape, inputs[i].shape) << inputs[i].name;
    EXPECT_EQ(r.outputs.at(i).data, inputs[i].data) << inputs[i].name;
  }
}

TEST_P(BothModesTest, ProgramExitFailsAndTheNextBatchWorks) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch dying;
  dying.requests.push_back(AddSubRequest({7, 7, 7, 7}, {1, 1, 1, 1}));
  dying.requests.push_back(AddSubRequest({-3, 0, 0, 0}, {0, 0, 0, 0}));
  ErrorPtr e = Execute(instance, dying);
  std::string message;
  if (GetParam() == "persistent") {
    // The program died mid-batch: the whole batch fails.
    ASSERT_TRUE(e);
    message = e.message();
  } else {
    // Each request is its own run: only the dying one fails.
    ASSERT_FALSE(e) << e.message();
    ExpectAddSub(dying.requests[0]);
    ASSERT_NE(dying.requests[1].error, nullptr);
    message = dying.requests[1].error->message;
  }
  EXPECT_TRUE(Contains(message, "exited with status 3")) << message;
  EXPECT_TRUE(Contains(message, "dying on purpose")) << message;
  EXPECT_TRUE(Contains(message, "add_sub.py")) << message;

  SyBatch next;
  next.requests.push_back(AddSubRequest({1, 2, 3, 4}, {5, 6, 7, 8}));
  ErrorPtr e2 = Execute(instance, next);
  ASSERT_FALSE(e2) << e2.message();
  ExpectAddSub(next.requests[0]);
}

TEST_P(BothModesTest, TimeoutKillsTheProgram) {
  // Far longer than a healthy run (Python with numpy starts in well under a second), far
  // shorter than the hour the program sleeps.
  void* instance = AddSubInstance(GetParam(), {{"timeout_ms", "5000"}});
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({-4, 0, 0, 0}, {0, 0, 0, 0}));
  ErrorPtr e = Execute(instance, batch);
  std::string message;
  if (GetParam() == "persistent") {
    ASSERT_TRUE(e);
    message = e.message();
    EXPECT_TRUE(Contains(message, "timed out waiting for the program's RESULT frame")) << message;
    EXPECT_TRUE(Contains(message, "(timeout_ms = 5000)")) << message;
  } else {
    ASSERT_FALSE(e) << e.message();
    ASSERT_NE(batch.requests[0].error, nullptr);
    message = batch.requests[0].error->message;
    EXPECT_TRUE(Contains(message, "did not finish within timeout_ms = 5000 ms")) << message;
  }
  EXPECT_TRUE(Contains(message, "the plugin killed it")) << message;
  EXPECT_TRUE(Contains(message, "add_sub starting")) << message;  // the stderr tail

  SyBatch next;
  next.requests.push_back(AddSubRequest({1, 2, 3, 4}, {5, 6, 7, 8}));
  ASSERT_FALSE(Execute(instance, next));
  ExpectAddSub(next.requests[0]);
}

// Lines logged so far that contain `needle`.
size_t CountLogged(const std::string& needle) {
  size_t n = 0;
  for (const std::string& line : LoggedLines()) n += line.find(needle) != std::string::npos;
  return n;
}

// Sets request `r`'s cancel state after `delay`, from another thread (as a client that goes
// away while the batch executes).
std::thread CancelLater(FakeRequest& r, SyCancelState state, std::chrono::milliseconds delay) {
  return std::thread([cancelled = r.cancelled, state, delay] {
    std::this_thread::sleep_for(delay);
    cancelled->store(state);
  });
}

TEST_P(BothModesTest, ARequestCancelledBeforeTheBatchIsNotRun) {
  void* instance = AddSubInstance(GetParam());
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({-4, 0, 0, 0}, {0, 0, 0, 0}));  // would sleep an hour
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {5, 6, 7, 8}));
  batch.requests[0].cancelled->store(SY_CANCELLED_CLIENT_GONE);
  ASSERT_FALSE(Execute(instance, batch));
  ASSERT_NE(batch.requests[0].error, nullptr);
  EXPECT_EQ(batch.requests[0].error->code, SY_ERROR_UNAVAILABLE);
  EXPECT_TRUE(Contains(batch.requests[0].error->message, "its client went away"))
      << batch.requests[0].error->message;
  ExpectAddSub(batch.requests[1]);
}

TEST_F(ExecPluginTest, APerRequestRunIsKilledWhenItsRequestIsCancelled) {
  void* instance = AddSubInstance("per_request");
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({-4, 0, 0, 0}, {0, 0, 0, 0}));  // sleeps an hour
  std::thread canceller =
      CancelLater(batch.requests[0], SY_CANCELLED_DEADLINE, std::chrono::milliseconds(300));
  ErrorPtr e = Execute(instance, batch);
  canceller.join();
  ASSERT_FALSE(e) << e.message();
  ASSERT_NE(batch.requests[0].error, nullptr);
  const std::string& message = batch.requests[0].error->message;
  EXPECT_TRUE(Contains(message, "the request was stopped while it ran")) << message;
  EXPECT_TRUE(Contains(message, "was killed by signal 9")) << message;
  EXPECT_TRUE(Contains(message, "its timeout passed")) << message;
  RunAddSubBatches(instance, 1, 1);
}

TEST_F(ExecPluginTest, APersistentProgramHearsOfEachCancelledRequest) {
  FakeModel m = AddSubModel("persistent");
  m.parameters = {{"command", std::string(kPython) + " waits_for_cancel.py"}};
  void* model = InitModel(m);
  ASSERT_NE(model, nullptr);
  void* instance = InitInstance(model);
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 0, 0, 0}, {0, 0, 0, 0}));
  batch.requests.push_back(AddSubRequest({1, 0, 0, 0}, {0, 0, 0, 0}));
  std::thread first =
      CancelLater(batch.requests[1], SY_CANCELLED_CLIENT_GONE, std::chrono::milliseconds(200));
  std::thread second =
      CancelLater(batch.requests[0], SY_CANCELLED_DEADLINE, std::chrono::milliseconds(400));
  ErrorPtr e = Execute(instance, batch);
  first.join();
  second.join();
  ASSERT_FALSE(e) << e.message();
  for (const FakeRequest& r : batch.requests) {
    ASSERT_NE(r.error, nullptr);
    EXPECT_EQ(r.error->code, SY_ERROR_UNAVAILABLE);
    EXPECT_EQ(r.error->message, "stopped: request 0 reason 2, request 1 reason 1");
  }
  // The program carries on with the next batch.
  SyBatch next;
  next.requests.push_back(AddSubRequest({0, 5, 6, 7}, {0, 0, 0, 0}));
  ASSERT_FALSE(Execute(instance, next));
  ASSERT_EQ(next.requests[0].error, nullptr) << next.requests[0].error->message;
  EXPECT_EQ(Int32Values(next.requests[0].outputs.at(0).data), (std::vector<int32_t>{0, 5, 6, 7}));
}

TEST_F(ExecPluginTest, AProgramsProgressReportsReachTheHostBeforeItsAnswer) {
  FakeModel m = AddSubModel("persistent");
  m.parameters = {{"command", std::string(kPython) + " reports_progress.py"}};
  void* model = InitModel(m);
  ASSERT_NE(model, nullptr);
  void* instance = InitInstance(model);
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 2, 3, 4}, {10, 20, 30, 40}));
  batch.requests.push_back(AddSubRequest({5, 6, 7, 8}, {1, 1, 1, 1}));
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  const std::vector<std::pair<double, std::string>> want = {{0.25, "a quarter"}, {1.0, "done"}};
  for (const FakeRequest& r : batch.requests) {
    ExpectAddSub(r);
    std::lock_guard<std::mutex> lock(ProgressMutex());
    EXPECT_EQ(r.progress, want);  // in order; the report too soon after the first dropped
  }
}

// CountLogged(needle) once it reaches `want` (the program's stderr reaches the log from a reader
// thread, a little later), or after 10 s.
size_t CountLoggedEventually(const std::string& needle, size_t want) {
  for (int i = 0; i < 1000 && CountLogged(needle) < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return CountLogged(needle);
}

TEST_F(ExecPluginTest, APipelinedProgramGetsTheNextBatchBeforeItAnswers) {
  FakeModel m = AddSubModel("persistent");
  m.parameters = {{"command", std::string(kPython) + " needs_two_batches.py"}};
  void* model = InitModel(m);
  ASSERT_NE(model, nullptr);
  void* instance = InitInstance(model);
  ASSERT_NE(instance, nullptr);
  ASSERT_EQ(abi_.instance_concurrency(instance), 2u);
  // The program answers nothing until it has two batches: each round of two concurrent
  // Executes completes only if the second BATCH is sent while the first is unanswered.
  for (int round = 0; round < 3; ++round) {
    SyBatch first, second;
    first.requests.push_back(AddSubRequest({1, 2, 3, round}, {5, 6, 7, 8}));
    second.requests.push_back(AddSubRequest({9, 9, 9, round}, {1, 2, 3, 4}));
    second.requests.push_back(AddSubRequest({0, 0, 0, 0}, {1, 1, 1, round}));
    ErrorPtr second_error;
    std::thread other([&] { second_error = Execute(instance, second); });
    ErrorPtr first_error = Execute(instance, first);
    other.join();
    ASSERT_FALSE(first_error) << first_error.message();
    ASSERT_FALSE(second_error) << second_error.message();
    ExpectAddSub(first.requests[0]);
    for (const FakeRequest& r : second.requests) ExpectAddSub(r);
  }
}

TEST_F(ExecPluginTest, AProgramThatTakesOneBatchAtATimeSaysSo) {
  void* instance = AddSubInstance("persistent");  // add_sub.py: serve(), no reader thread
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(abi_.instance_concurrency(instance), 1u);
}

TEST_F(ExecPluginTest, AProgramThatSaysItEndsIsReplacedBeforeTheNextBatch) {
  FakeModel m = AddSubModel("persistent");
  m.parameters = {{"command", std::string(kPython) + " ends_after_batch.py"}};
  void* model = InitModel(m);
  ASSERT_NE(model, nullptr);
  void* instance = InitInstance(model);
  ASSERT_NE(instance, nullptr);
  const size_t ends = CountLogged("ends after this batch, as it said");
  SyBatch ending;
  ending.requests.push_back(AddSubRequest({-6, 1, 1, 1}, {1, 1, 1, 1}));
  ASSERT_FALSE(Execute(instance, ending));
  ExpectAddSub(ending.requests[0]);  // the batch that ends it is answered
  // The next batch goes to a new program, and does not fail on the old one.
  RunAddSubBatches(instance, 2, 1);
  // (The program's own "starting" lines reach the log from a reader thread, later: the plugin's
  // line, and the batches that succeeded after it, are what show the restart.)
  EXPECT_EQ(CountLogged("ends after this batch, as it said"), ends + 1);
}

TEST_F(ExecPluginTest, RecyclingAfterNRequestsStartsAFreshProgram) {
  void* instance = AddSubInstance("persistent", {{"recycle_requests", "3"}});
  ASSERT_NE(instance, nullptr);
  const size_t recycled = CountLogged("4 requests (recycle_requests = 3)");
  RunAddSubBatches(instance, 4, 2);
  // Recycled after batches 2 and 4 (4 requests each time): batch 3 went to a fresh program.
  EXPECT_EQ(CountLogged("4 requests (recycle_requests = 3)"), recycled + 2);
}

TEST_F(ExecPluginTest, RecyclingPastAResidentMemoryLimit) {
  // Any Python with numpy holds more than 1 MiB: recycled after every batch.
  void* instance = AddSubInstance("persistent", {{"recycle_rss_mb", "1"}});
  ASSERT_NE(instance, nullptr);
  const size_t recycled = CountLogged("resident (recycle_rss_mb = 1)");
  RunAddSubBatches(instance, 2, 1);
  EXPECT_EQ(CountLogged("resident (recycle_rss_mb = 1)"), recycled + 2);
}

TEST_F(ExecPluginTest, PerRequestFoldersAreRemovedWhateverHappens) {
  size_t before = AnnouncedDirs().size();
  void* instance = AddSubInstance("per_request", {{"timeout_ms", "5000"}});
  ASSERT_NE(instance, nullptr);
  SyBatch batch;
  batch.requests.push_back(AddSubRequest({1, 1, 1, 1}, {1, 1, 1, 1}));   // success
  batch.requests.push_back(AddSubRequest({-2, 0, 0, 0}, {0, 0, 0, 0}));  // exception
  batch.requests.push_back(AddSubRequest({-3, 0, 0, 0}, {0, 0, 0, 0}));  // exit 3
  batch.requests.push_back(AddSubRequest({-4, 0, 0, 0}, {0, 0, 0, 0}));  // timeout
  ASSERT_FALSE(Execute(instance, batch));
  std::vector<std::string> dirs = AnnouncedDirs();
  ASSERT_EQ(dirs.size(), before + 4);
  for (size_t i = before; i < dirs.size(); ++i) {
    EXPECT_EQ(dirs[i].rfind("/", 0), 0u) << dirs[i];
    EXPECT_TRUE(Contains(dirs[i], "switchyard-exec-")) << dirs[i];
    EXPECT_FALSE(std::filesystem::exists(dirs[i])) << dirs[i];
  }
}

// A batch of `count` requests of `bytes` each, with recognisable contents.
SyBatch BigBatch(int count, size_t bytes) {
  SyBatch batch;
  for (int r = 0; r < count; ++r) {
    std::string data(bytes, '\0');
    for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>(i + r);
    batch.requests.push_back(
        {{{"BIG", SY_TYPE_FP32, {1, static_cast<int64_t>(data.size() / 4)}, data}}, {}, {}, {}});
  }
  return batch;
}

void ExpectEchoed(const SyBatch& batch) {
  for (const FakeRequest& r : batch.requests) {
    ASSERT_EQ(r.error, nullptr) << r.error->message;
    ASSERT_EQ(r.outputs.count(0), 1u);
    EXPECT_TRUE(r.outputs.at(0).data == r.inputs[0].data);
  }
}

TEST_F(ExecPluginTest, LargeTensorsThroughTheFrameDoNotDeadlock) {
  void* instance = BigIdentity("0");  // no shared region: 48 MiB through the socket
  ASSERT_NE(instance, nullptr);
  const size_t in_frame = CountLogged("inputs in bytearray");
  SyBatch batch = BigBatch(2, 24 << 20);
  ErrorPtr e = Execute(instance, batch);
  ASSERT_FALSE(e) << e.message();
  ExpectEchoed(batch);
  EXPECT_EQ(CountLoggedEventually("inputs in bytearray", in_frame + 2), in_frame + 2);
}

TEST_F(ExecPluginTest, InputsTravelInSharedMemoryWhenTheyFit) {
  void* instance = BigIdentity("1");  // a region of 1 MiB
  ASSERT_NE(instance, nullptr);
  const size_t in_region = CountLogged("inputs in mmap");
  const size_t in_frame = CountLogged("inputs in bytearray");
  SyBatch small = BigBatch(3, 256 << 10);  // 768 KiB: fits
  ASSERT_FALSE(Execute(instance, small));
  ExpectEchoed(small);
  EXPECT_EQ(CountLoggedEventually("inputs in mmap", in_region + 3), in_region + 3);
  SyBatch large = BigBatch(2, 768 << 10);  // 1.5 MiB: does not fit, goes in the frame
  ASSERT_FALSE(Execute(instance, large));
  ExpectEchoed(large);
  EXPECT_EQ(CountLoggedEventually("inputs in bytearray", in_frame + 2), in_frame + 2);
  SyBatch again = BigBatch(1, 1 << 20);  // exactly the region: fits, after a larger batch
  ASSERT_FALSE(Execute(instance, again));
  ExpectEchoed(again);
  EXPECT_EQ(CountLoggedEventually("inputs in mmap", in_region + 4), in_region + 4);
}

// --- load failures ---

class LoadFailureTest : public ExecPluginTest {
 protected:
  // The SyModelInit or SyInstanceInit error for a model running `command`.
  std::string Failure(const std::string& command,
                      std::vector<std::pair<std::string, std::string>> extra = {},
                      SyErrorCode* code = nullptr) {
    FakeModel m = AddSubModel("persistent");
    m.parameters = {{"command", command}};
    for (auto& p : extra) m.parameters.push_back(p);
    ErrorPtr e;
    void* model = InitModel(m, &e);
    if (model != nullptr) {
      void* instance = InitInstance(model, &e);
      EXPECT_EQ(instance, nullptr) << "the instance started";
    }
    if (code != nullptr && e.error) *code = e.error->code;
    return e.message();
  }
};

TEST_F(LoadFailureTest, UnknownParameterIsRejectedAtModelInit) {
  SyErrorCode code = SY_ERROR_INTERNAL;
  std::string m = Failure(std::string(kPython) + " add_sub.py", {{"timeout", "5"}}, &code);
  EXPECT_EQ(code, SY_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(m, "parameters: unknown key 'timeout'")) << m;
  EXPECT_TRUE(Contains(m, "known: command, mode, timeout_ms")) << m;
}

TEST_F(LoadFailureTest, MissingOrNotExecutableProgram) {
  SyErrorCode code = SY_ERROR_INTERNAL;
  std::string missing = Failure("./no_such_model.py", {}, &code);
  EXPECT_EQ(code, SY_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(missing, "no_such_model.py does not exist")) << missing;
  std::string not_exec = Failure("identity.py");  // mode 0644 in the source tree
  EXPECT_TRUE(Contains(not_exec, "identity.py is not executable")) << not_exec;
}

TEST_F(LoadFailureTest, HandshakeFailuresAreClear) {
  std::string echo = Failure("/bin/cat");
  EXPECT_TRUE(Contains(echo, "failed the exec protocol handshake")) << echo;
  EXPECT_TRUE(Contains(echo, "expected a READY frame")) << echo;

  std::string text = Failure("/bin/sh -c 'echo hello world; sleep 3600'");
  EXPECT_TRUE(Contains(text, "\"hello world\\x0a...\"")) << text;

  std::string exits = Failure("/bin/sh -c 'echo oops >&2; exit 2'");
  EXPECT_TRUE(Contains(exits, "exited with status 2")) << exits;
  EXPECT_TRUE(Contains(exits, "oops")) << exits;

  std::string python = Failure(std::string(kPython) + " import_error.py");
  EXPECT_TRUE(Contains(python, "ModuleNotFoundError")) << python;
  EXPECT_TRUE(Contains(python, "exited with status 1")) << python;

  std::string silent = Failure("/bin/sleep 3600", {{"startup_timeout_ms", "300"}});
  EXPECT_TRUE(Contains(silent, "no READY frame within startup_timeout_ms = 300 ms")) << silent;
  EXPECT_TRUE(Contains(silent, "the plugin killed it")) << silent;
}

}  // namespace
}  // namespace switchyard::exec::testing
