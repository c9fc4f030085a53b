// ProcessInstance against a real worker: this build's `switchyard worker` serving a sim model
// through the sim plugin (SWITCHYARD_BIN and SIM_PLUGIN come from CMake). Every wait is bounded
// and waits for an event or a condition, never for a fixed time.

#include "instance/process_instance.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "ipc/shm_pool.h"
#include "repository/repository.h"
#include "testing/tensor_bytes.h"

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Le;

constexpr auto kWait = seconds(60);  // generous: sanitizer builds on a busy machine

// Two INT32 inputs and outputs of variable length, batching; `extra` is appended to the
// parameters map (e.g. ", crash_on_value: 13").
std::string AddSubConfig(const std::string& extra, int warmup = 0) {
  return "backend: sim\n"
         "max_batch_size: 8\n"
         "inputs:\n"
         "  - {name: INPUT0, datatype: INT32, shape: [-1]}\n"
         "  - {name: INPUT1, datatype: INT32, shape: [-1]}\n"
         "outputs:\n"
         "  - {name: OUTPUT0, datatype: INT32, shape: [-1]}\n"
         "  - {name: OUTPUT1, datatype: INT32, shape: [-1]}\n"
         "instances: {devices: cpu, per_device: 1, isolation: process}\n"
         "warmup: {requests: " +
         std::to_string(warmup) +
         "}\n"
         "parameters: {function: add_sub" +
         extra + "}\n";
}

// Every batch item takes 100 ms: a request of 200 items keeps the worker busy for 20 s, long
// enough to be certainly in flight when the test strikes; a request of one item is quick.
const std::string kSlow = ", service_time_per_item_us: 100000";

// Appends ":handle_segv=0" to a sanitizer's options so that a sanitized worker dies of the
// SIGSEGV the sim backend raises, as a plain build does, instead of reporting and exiting 1.
// TSan also gets ":atexit_sleep_ms=0": by default it sleeps 1 s in the _exit of a process with
// threads, as long as the instance waits for a worker that lost its device to exit by itself.
std::string SanitizerOptions(const char* variable) {
  const char* old = getenv(variable);
  std::string value = old != nullptr ? std::string(old) + ":" : std::string();
  value += "handle_segv=0";
  if (std::string_view(variable) == "TSAN_OPTIONS") value += ":atexit_sleep_ms=0";
  return std::string(variable) + "=" + value;
}

// What the instance told its observer, in order.
class EventLog {
 public:
  std::function<void(InstanceEvent)> Observer() {
    return [this](InstanceEvent event) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(event);
      cv_.notify_all();
    };
  }
  // Waits until `n` events arrived; returns all so far.
  std::vector<InstanceEvent> WaitFor(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kWait, [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<InstanceEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<InstanceEvent> events_;
};

// The answer of one Execute, waited for with a bound.
class BatchResult {
 public:
  BatchDone Done() {
    return [this](std::vector<RequestOutputs> outputs) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      outputs_ = std::move(outputs);
      cv_.notify_all();
    };
  }
  // The outputs, once `done` was called (empty after the bound).
  std::vector<RequestOutputs> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    bool called = cv_.wait_for(lock, kWait, [&] { return calls_ > 0; });
    EXPECT_TRUE(called) << "the batch was never answered";
    return std::move(outputs_);
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  std::vector<RequestOutputs> outputs_;
};

// An add_sub request of one batch item: INPUT0 = a, INPUT1 = b, each of shape [1, n]. Its
// inputs are listed INPUT1 first (the config's order is INPUT0, INPUT1). `items` > 1 repeats
// the row as more batch items.
std::unique_ptr<InferRequest> AddSubRequest(const std::vector<int32_t>& a,
                                            const std::vector<int32_t>& b, int64_t items = 1) {
  auto bytes = [items](const std::vector<int32_t>& v) {
    std::vector<std::byte> out;
    for (int64_t i = 0; i < items; ++i) {
      const auto* p = reinterpret_cast<const std::byte*>(v.data());
      out.insert(out.end(), p, p + v.size() * sizeof(int32_t));
    }
    return out;
  };
  Shape shape = {items, static_cast<int64_t>(a.size())};
  auto request = std::make_unique<InferRequest>();
  request->inputs.push_back({"INPUT1", DataType::kInt32, shape, TensorData::Owned(bytes(b))});
  request->inputs.push_back({"INPUT0", DataType::kInt32, shape, TensorData::Owned(bytes(a))});
  request->batch_size = items;
  return request;
}

std::vector<int32_t> Ints(const Tensor& tensor) {
  std::vector<int32_t> out(tensor.data.size() / sizeof(int32_t));
  std::memcpy(out.data(), tensor.data.bytes().data(), out.size() * sizeof(int32_t));
  return out;
}

const Tensor* Output(const RequestOutputs& outputs, const std::string& name) {
  if (!outputs.ok()) return nullptr;
  for (const Tensor& t : *outputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// OUTPUT0 == a + b and OUTPUT1 == a - b, element by element.
void ExpectAddSub(const RequestOutputs& outputs, const std::vector<int32_t>& a,
                  const std::vector<int32_t>& b) {
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  const Tensor* sum = Output(outputs, "OUTPUT0");
  const Tensor* diff = Output(outputs, "OUTPUT1");
  ASSERT_NE(sum, nullptr);
  ASSERT_NE(diff, nullptr);
  EXPECT_EQ(sum->datatype, DataType::kInt32);
  EXPECT_EQ(sum->shape, (Shape{1, static_cast<int64_t>(a.size())}));
  std::vector<int32_t> want_sum, want_diff;
  for (std::size_t i = 0; i < a.size(); ++i) {
    want_sum.push_back(a[i] + b[i]);
    want_diff.push_back(a[i] - b[i]);
  }
  EXPECT_EQ(Ints(*sum), want_sum);
  EXPECT_EQ(Ints(*diff), want_diff);
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Polls `predicate` (bounded) for states that no event announces (e.g. `failed`).
template <typename Pred>
bool Eventually(Pred predicate) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

bool ProcessGone(long pid) {
  errno = 0;
  return kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

class ProcessInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/switchyard-pi-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr) << std::strerror(errno);
    root_ = dir;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  // Writes models/<name>/config.yaml and its version folder 1; returns the parsed config.
  const ModelConfig* WriteModel(const std::string& name, const std::string& yaml) {
    std::filesystem::create_directories(std::filesystem::path(root_) / name / "1");
    RewriteConfig(name, yaml);
    auto scanned = ScanModel(root_, name);
    EXPECT_TRUE(scanned.ok()) << scanned.status().ToString();
    if (!scanned.ok()) return nullptr;
    configs_.push_back(std::make_unique<ModelConfig>(std::move(scanned->config)));
    return configs_.back().get();
  }
  void RewriteConfig(const std::string& name, const std::string& yaml) {
    std::ofstream(std::filesystem::path(root_) / name / "config.yaml") << yaml;
  }

  // As InstanceFactory::MakeWorkers builds them, for instance 0 of `config` on CPU.
  ProcessInstanceOptions Options(const ModelConfig& config) {
    ProcessInstanceOptions options;
    options.command.executable = SWITCHYARD_BIN;
    // clang-format off
    options.command.args = {"worker",
                            "--model-repository", root_,
                            "--model", config.name,
                            "--version", "1",
                            "--instance", "0",
                            "--gpus", "0",
                            "--plugin", SIM_PLUGIN,
                            "--parent-pid", std::to_string(getpid())};
    // clang-format on
    options.command.environment = {"CUDA_VISIBLE_DEVICES=", SanitizerOptions("ASAN_OPTIONS"),
                                   SanitizerOptions("TSAN_OPTIONS"),
                                   SanitizerOptions("UBSAN_OPTIONS")};
    options.max_inflight_batches = config.instances.max_inflight_batches;
    options.restart_backoff = milliseconds(10);
    options.max_restart_backoff = milliseconds(100);
    options.load_timeout = kWait;
    options.stop_timeout = seconds(10);
    return options;
  }

  std::unique_ptr<ProcessInstance> StartOrDie(const ModelConfig* config,
                                              ProcessInstanceOptions options) {
    if (config == nullptr) return nullptr;
    auto started = ProcessInstance::Start(config, config->name + "/0", std::move(options));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return nullptr;
    return std::move(started).value();
  }

  // Starts instance 0 of model `name` (AddSubConfig with `extra` parameters), which must fail
  // with kUnavailable; returns the failure's message.
  // The message of a start that fails with `code` (a worker that could not come up: Unavailable;
  // a config the backend refused: InvalidArgument).
  std::string FailedStartMessage(const std::string& name, const std::string& extra, int warmup = 0,
                                 StatusCode code = StatusCode::kUnavailable) {
    const ModelConfig* config = WriteModel(name, AddSubConfig(extra, warmup));
    if (config == nullptr) {
      ADD_FAILURE() << "the config of '" << name << "' did not parse";
      return "";
    }
    auto started = ProcessInstance::Start(config, name + "/0", Options(*config));
    EXPECT_FALSE(started.ok());
    if (started.ok()) return "";
    EXPECT_EQ(started.status().code(), code) << started.status().ToString();
    return started.status().message();
  }

  // Executes `requests` as one batch and waits for the answer.
  static std::vector<RequestOutputs> Run(
      Instance& instance, const std::vector<std::unique_ptr<InferRequest>>& requests) {
    std::vector<InferRequest*> views;
    for (const auto& r : requests) views.push_back(r.get());
    BatchResult result;
    instance.Execute(views, result.Done());
    return result.Wait();
  }

  // After a lost worker: the instance went unavailable, was restarted once with a new worker
  // (not `first_pid`), names `cause` as its last error, and serves an add_sub request.
  static void ExpectRestartedOnceAndServing(Instance& instance, EventLog& events, long first_pid,
                                            const std::string& cause) {
    EXPECT_EQ(events.WaitFor(3),
              (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                          InstanceEvent::kAvailable}));
    InstanceHealth health = instance.Health();
    EXPECT_EQ(health.restarts, 1);
    EXPECT_NE(health.pid, first_pid);
    EXPECT_TRUE(Contains(health.last_error, cause)) << health.last_error;

    std::vector<std::unique_ptr<InferRequest>> after;
    after.push_back(AddSubRequest({5}, {6}));
    auto served = Run(instance, after);
    ASSERT_EQ(served.size(), 1u);
    ExpectAddSub(served[0], {5}, {6});
  }

  std::string root_;
  std::vector<std::unique_ptr<ModelConfig>> configs_;
};

TEST_F(ProcessInstanceTest, ExecutesABatchOfSeveralRequests) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig("", /*warmup=*/2));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  EXPECT_TRUE(instance->available());
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.state, "ready");
  EXPECT_EQ(health.restarts, 0);
  EXPECT_EQ(health.last_error, "");
  EXPECT_GT(health.pid, 0);
  EXPECT_NE(health.pid, getpid());

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1, 2, 3, 4}, {10, 20, 30, 40}));
  requests.push_back(AddSubRequest({-5}, {7}));
  requests.push_back(AddSubRequest({100, 200, 300}, {1, 1, 1}));
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 3u);
  ExpectAddSub(outputs[0], {1, 2, 3, 4}, {10, 20, 30, 40});
  ExpectAddSub(outputs[1], {-5}, {7});
  ExpectAddSub(outputs[2], {100, 200, 300}, {1, 1, 1});
  EXPECT_EQ(instance->Health().pid, health.pid);  // the same worker throughout
}

// AddSubRequest with its inputs borrowed from a body received in `pool`: INPUT0 at offset 0 and
// INPUT1 at offset 64 * k after it (both 64-byte aligned in the region).
std::unique_ptr<InferRequest> BodyAddSubRequest(ipc::ShmPool& pool, const std::vector<int32_t>& a,
                                                const std::vector<int32_t>& b) {
  const std::size_t bytes = a.size() * sizeof(int32_t);
  const std::size_t second = (bytes + 63) / 64 * 64;
  auto block = pool.Allocate(second + bytes, 0);
  EXPECT_NE(block, nullptr);
  auto request = std::make_unique<InferRequest>();
  request->payload = RequestBody(std::move(block));
  std::span<std::byte> body = request->payload.mutable_bytes();
  std::memcpy(body.data(), a.data(), bytes);
  std::memcpy(body.data() + second, b.data(), bytes);
  Shape shape = {1, static_cast<int64_t>(a.size())};
  request->inputs.push_back(
      {"INPUT0", DataType::kInt32, shape, TensorData::Borrowed(body.subspan(0, bytes))});
  request->inputs.push_back(
      {"INPUT1", DataType::kInt32, shape, TensorData::Borrowed(body.subspan(second, bytes))});
  return request;
}

TEST_F(ProcessInstanceTest, InputsReceivedInPoolBlocksAreReadWhereTheyLie) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  // Small regions, so that the batches below span two of them.
  auto pool = ipc::ShmPool::Create({.region_bytes = 4096, .max_regions = 4});
  std::vector<int32_t> a(300), b(300);
  for (int i = 0; i < 300; ++i) {
    a[static_cast<std::size_t>(i)] = i;
    b[static_cast<std::size_t>(i)] = 1000 - 3 * i;
  }
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    std::vector<std::unique_ptr<InferRequest>> requests;
    for (int r = 0; r < 3; ++r) requests.push_back(BodyAddSubRequest(*pool, a, b));
    requests.push_back(AddSubRequest({1, 2}, {3, 4}));  // an ordinary body, copied
    auto outputs = Run(*instance, requests);
    ASSERT_EQ(outputs.size(), 4u);
    for (int r = 0; r < 3; ++r) ExpectAddSub(outputs[static_cast<std::size_t>(r)], a, b);
    ExpectAddSub(outputs[3], {1, 2}, {3, 4});
  };
  check("first worker");
  EXPECT_GE(pool->region_count(), 2);
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.input_bytes_in_place, 3u * 2 * 300 * sizeof(int32_t));
  EXPECT_EQ(health.input_bytes_copied, 2u * 2 * sizeof(int32_t));

  // A restarted worker has mapped none of the regions: they are announced to it again.
  ASSERT_EQ(kill(static_cast<pid_t>(health.pid), SIGKILL), 0);
  ASSERT_EQ(events.WaitFor(3).size(), 3u);
  ASSERT_TRUE(instance->available());
  check("restarted worker");
  EXPECT_EQ(instance->Health().input_bytes_in_place, 2 * health.input_bytes_in_place);
}

TEST_F(ProcessInstanceTest, OutputsStayInTheWorkersMemoryUntilTheResponsesLetGo) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  // 1 Mi elements: 8 MiB of outputs a batch. 24 batches are 192 MiB, more than the worker's
  // output pool holds (8 regions of 16 MiB): only memory given back is there for the later ones.
  std::vector<int32_t> a(1 << 20, 3), b(1 << 20, 1);
  uint64_t output_bytes = 0;
  for (int round = 0; round < 24; ++round) {
    std::vector<std::unique_ptr<InferRequest>> requests;
    requests.push_back(AddSubRequest(a, b));
    auto outputs = Run(*instance, requests);
    ASSERT_EQ(outputs.size(), 1u);
    ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();
    const Tensor* sum = Output(outputs[0], "OUTPUT0");
    ASSERT_NE(sum, nullptr);
    EXPECT_TRUE(sum->data.owned());  // it keeps the worker's memory alive itself
    EXPECT_EQ(Ints(*sum)[12345], 4);
    output_bytes += 2 * a.size() * sizeof(int32_t);
  }  // each round's outputs go here: the worker hears that their memory is free
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.output_bytes_in_place, output_bytes);
  EXPECT_EQ(health.output_bytes_copied, 0u);
}

TEST_F(ProcessInstanceTest, LargeBatchesGrowTheSharedMemoryAndSmallOnesStillWork) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  for (int size : {3, 400000, 5, 700000, 2}) {  // 1.6 MB and 2.8 MB per input: past 1 MiB
    SCOPED_TRACE("elements " + std::to_string(size));
    std::vector<int32_t> a(static_cast<std::size_t>(size)), b(a.size());
    for (int i = 0; i < size; ++i) {
      a[static_cast<std::size_t>(i)] = i;
      b[static_cast<std::size_t>(i)] = size - 2 * i;
    }
    std::vector<std::unique_ptr<InferRequest>> requests;
    requests.push_back(AddSubRequest(a, b));
    requests.push_back(AddSubRequest(b, a));
    auto outputs = Run(*instance, requests);
    ASSERT_EQ(outputs.size(), 2u);
    ExpectAddSub(outputs[0], a, b);
    ExpectAddSub(outputs[1], b, a);
  }
}

TEST_F(ProcessInstanceTest, ConcurrentBatchesShareTheSlots) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(", service_time_us: 200"));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  ASSERT_EQ(config->instances.max_inflight_batches, 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {  // as many senders as slots, as the scheduler allows
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::vector<std::unique_ptr<InferRequest>> requests;
        requests.push_back(AddSubRequest({t, i}, {i, t}));
        requests.push_back(AddSubRequest({i}, {-t}));
        auto outputs = Run(*instance, requests);
        ASSERT_EQ(outputs.size(), 2u);
        ExpectAddSub(outputs[0], {t, i}, {i, t});
        ExpectAddSub(outputs[1], {i}, {-t});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(instance->Health().restarts, 0);
}

TEST_F(ProcessInstanceTest, KilledWorkerAbortsItsBatchAndIsRestarted) {
  const ModelConfig* config = WriteModel("slow", AddSubConfig(kSlow));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  std::vector<bool> available_at_event;
  std::mutex available_mu;
  auto record = events.Observer();
  instance->SetObserver([&, raw = instance.get()](InstanceEvent event) {
    {
      std::lock_guard<std::mutex> lock(available_mu);
      available_at_event.push_back(raw->available());
    }
    record(event);
  });
  long first_pid = instance->Health().pid;
  ASSERT_GT(first_pid, 0);

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {2}, 100));
  requests.push_back(AddSubRequest({3}, {4}, 100));
  std::vector<InferRequest*> views = {requests[0].get(), requests[1].get()};
  BatchResult result;
  instance->Execute(views, result.Done());  // 200 items: 20 s of work
  ASSERT_EQ(kill(static_cast<pid_t>(first_pid), SIGKILL), 0);

  auto outputs = result.Wait();
  ASSERT_EQ(outputs.size(), 2u);
  for (const auto& out : outputs) {
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kAborted) << out.status().ToString();
    EXPECT_TRUE(Contains(out.status().message(), "killed by signal 9")) << out.status().message();
  }
  EXPECT_EQ(result.calls(), 1);

  EXPECT_EQ(events.WaitFor(3),
            (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                        InstanceEvent::kAvailable}));
  {
    std::lock_guard<std::mutex> lock(available_mu);
    ASSERT_EQ(available_at_event.size(), 3u);
    EXPECT_FALSE(available_at_event[0]) << "kUnavailable while still available";
    EXPECT_TRUE(available_at_event[2]) << "kAvailable while not available";
  }
  EXPECT_TRUE(instance->available());
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.state, "ready");
  EXPECT_EQ(health.restarts, 1);
  EXPECT_GT(health.pid, 0);
  EXPECT_NE(health.pid, first_pid);
  EXPECT_TRUE(Contains(health.last_error, "killed by signal 9")) << health.last_error;
  EXPECT_TRUE(Contains(health.last_error, std::to_string(first_pid))) << health.last_error;
  EXPECT_TRUE(ProcessGone(first_pid));

  // The new worker serves, through both slots (their input memory must reach the new worker).
  for (int i = 0; i < 4; ++i) {
    std::vector<std::unique_ptr<InferRequest>> again;
    again.push_back(AddSubRequest({i, 7}, {1, 1}));
    auto answer = Run(*instance, again);
    ASSERT_EQ(answer.size(), 1u);
    ExpectAddSub(answer[0], {i, 7}, {1, 1});
  }
  EXPECT_EQ(events.events().size(), 3u);
}

TEST_F(ProcessInstanceTest, ExecuteWhileTheWorkerIsDownIsAbortedAtOnce) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.restart_backoff = std::chrono::hours(1);  // stays down for the whole test
  options.max_restart_backoff = std::chrono::hours(1);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long pid = instance->Health().pid;
  ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
  EXPECT_EQ(events.WaitFor(1), (std::vector<InstanceEvent>{InstanceEvent::kUnavailable}));
  EXPECT_FALSE(instance->available());
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.state, "restarting");
  EXPECT_EQ(health.pid, 0);
  EXPECT_EQ(health.restarts, 0);
  EXPECT_TRUE(Contains(health.last_error, "killed by signal 9")) << health.last_error;

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {1}));
  std::vector<InferRequest*> views = {requests[0].get()};
  BatchResult result;
  instance->Execute(views, result.Done());
  EXPECT_EQ(result.calls(), 1) << "answered before Execute returned";
  auto outputs = result.Wait();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kAborted);
  // Destroying it during the backoff neither waits for the backoff nor starts a worker.
  instance.reset();
  EXPECT_EQ(events.events().size(), 1u);
}

TEST_F(ProcessInstanceTest, CrashAtLoadFailsStartNamingTheSignal) {
  const std::string message = FailedStartMessage("crasher", ", crash_at_load: \"true\"");
  EXPECT_TRUE(Contains(message, "crasher/0")) << message;
  EXPECT_TRUE(Contains(message, "killed by signal 11")) << message;
  EXPECT_TRUE(Contains(message, "while loading")) << message;
}

TEST_F(ProcessInstanceTest, CrashDuringWarmupFailsStartNamingTheSignal) {
  // Warm-up requests are zeros: crash_on_value 0 kills the worker before it is ready.
  const std::string message = FailedStartMessage("warmcrash", ", crash_on_value: 0", /*warmup=*/1);
  EXPECT_TRUE(Contains(message, "killed by signal 11")) << message;
}

TEST_F(ProcessInstanceTest, DeviceLossDuringWarmupFailsStartWithThePluginsMessage) {
  // The worker reports the loss and leaves without tearing the plugin down.
  const std::string message =
      FailedStartMessage("warmloss", ", device_lost_on_value: 0", /*warmup=*/1);
  EXPECT_TRUE(Contains(message, "warm-up request 1 of 1 failed")) << message;
  EXPECT_TRUE(Contains(message, "simulated device loss")) << message;
  EXPECT_FALSE(Contains(message, "signal")) << message;
}

TEST_F(ProcessInstanceTest, InvalidParameterFailsStartWithThePluginsMessage) {
  const std::string message =
      FailedStartMessage("bad", ", bogus: 1", /*warmup=*/0, StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "bad/0")) << message;
  EXPECT_TRUE(Contains(message, "parameters.bogus: unknown sim parameter")) << message;
  EXPECT_FALSE(Contains(message, "signal")) << message;
}

TEST_F(ProcessInstanceTest, CrashOnValueKillsTheWorkerAndAbortsTheBatch) {
  const ModelConfig* config = WriteModel("fragile", AddSubConfig(", crash_on_value: 13"));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;

  // A harmless value at 13's place in another input, or later in the tensor, is fine.
  std::vector<std::unique_ptr<InferRequest>> fine;
  fine.push_back(AddSubRequest({12, 13}, {13, 13}));
  auto ok = Run(*instance, fine);
  ASSERT_EQ(ok.size(), 1u);
  ExpectAddSub(ok[0], {12, 13}, {13, 13});

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {1}));
  requests.push_back(AddSubRequest({13, 0}, {2, 0}));
  requests.push_back(AddSubRequest({2}, {2}));
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 3u);
  for (const auto& out : outputs) {  // the whole batch went down with the worker
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kAborted) << out.status().ToString();
    EXPECT_TRUE(Contains(out.status().message(), "killed by signal 11")) << out.status().message();
    EXPECT_TRUE(Contains(out.status().message(), "fragile/0")) << out.status().message();
  }
  ExpectRestartedOnceAndServing(*instance, events, first_pid, "killed by signal 11");
}

// A backend that returns SY_ERROR_DEVICE_LOST (sim `device_lost_on_value`) ends its worker: the
// device-fault listener hears of it before the batch is answered kAborted (so the server drains
// the GPU before the retry goes elsewhere), and hears that it recovered when the restarted
// worker is ready.
TEST_F(ProcessInstanceTest, DeviceLossIsHeardBeforeTheBatchIsAbortedAndRecoveryAfterTheRestart) {
  const ModelConfig* config = WriteModel("lossy", AddSubConfig(", device_lost_on_value: 66"));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  std::mutex mu;
  std::vector<std::string> log;  // listener calls and the batch's answer, in order
  instance->SetDeviceFaultListener([&](bool lost, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(lost ? "lost: " + why : "recovered");
  });
  long first_pid = instance->Health().pid;

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {1}));
  requests.push_back(AddSubRequest({66}, {2}));
  std::vector<InferRequest*> views = {requests[0].get(), requests[1].get()};
  BatchResult result;
  instance->Execute(views, [&, done = result.Done()](std::vector<RequestOutputs> outputs) {
    {
      std::lock_guard<std::mutex> lock(mu);
      log.push_back("answered");
    }
    done(std::move(outputs));
  });
  auto outputs = result.Wait();
  ASSERT_EQ(outputs.size(), 2u);
  for (const auto& out : outputs) {
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kAborted) << out.status().ToString();
    EXPECT_TRUE(Contains(out.status().message(), "its backend lost the GPU: simulated device loss"))
        << out.status().message();
    EXPECT_TRUE(Contains(out.status().message(), "exited with status 4")) << out.status().message();
  }
  ExpectRestartedOnceAndServing(*instance, events, first_pid, "simulated device loss");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "lost: simulated device loss (parameters.device_lost_on_value)", "answered",
                     "recovered"}));
}

TEST_F(ProcessInstanceTest, StoppedWorkerMissesHeartbeatsAndIsReplaced) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.heartbeat_interval = milliseconds(20);
  options.heartbeat_timeout = seconds(2);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;
  ASSERT_EQ(kill(static_cast<pid_t>(first_pid), SIGSTOP), 0);  // alive, but answers nothing
  EXPECT_EQ(events.WaitFor(3),
            (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                        InstanceEvent::kAvailable}));
  EXPECT_TRUE(Eventually([&] { return ProcessGone(first_pid); })) << "the stopped worker lives";
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.restarts, 1);
  EXPECT_NE(health.pid, first_pid);
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1, 2}, {3, 4}));
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 1u);
  ExpectAddSub(outputs[0], {1, 2}, {3, 4});
}

// A stopped worker is found out by its state once two pings go unanswered, long before the
// heartbeat timeout (an hour here): its model does not stall meanwhile.
TEST_F(ProcessInstanceTest, StoppedWorkerIsReplacedBeforeTheHeartbeatTimeout) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.heartbeat_interval = milliseconds(20);
  options.heartbeat_timeout = std::chrono::hours(1);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;
  ASSERT_EQ(kill(static_cast<pid_t>(first_pid), SIGSTOP), 0);
  ExpectRestartedOnceAndServing(*instance, events, first_pid, "killed by signal 9");
  EXPECT_TRUE(Eventually([&] { return ProcessGone(first_pid); })) << "the stopped worker lives";
}

// A restart that fails for want of descriptors is the system's shortage, not the model's: it is
// retried until descriptors are back, even with max_failed_restarts 1 (one failure of the
// model's own leaves it failed).
TEST_F(ProcessInstanceTest, RestartsThatFailForWantOfDescriptorsAreRetriedUntilTheyReturn) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.max_failed_restarts = 1;
  options.restart_backoff = milliseconds(5);
  options.max_restart_backoff = milliseconds(20);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;

  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // New descriptors must be numbered below the soft limit: with 1, no socketpair can be made
  // (those open already stay usable).
  rlimit none_left = saved;
  none_left.rlim_cur = 1;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &none_left), 0);
  ASSERT_EQ(kill(static_cast<pid_t>(first_pid), SIGKILL), 0);
  const bool short_of_descriptors =
      Eventually([&] { return Contains(instance->Health().last_error, "Too many open files"); });
  const std::string state_while_short = instance->Health().state;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(short_of_descriptors) << instance->Health().last_error;
  EXPECT_EQ(state_while_short, "restarting");
  EXPECT_EQ(events.WaitFor(3),
            (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                        InstanceEvent::kAvailable}));
  std::vector<std::unique_ptr<InferRequest>> after;
  after.push_back(AddSubRequest({5}, {6}));
  auto served = Run(*instance, after);
  ASSERT_EQ(served.size(), 1u);
  ExpectAddSub(served[0], {5}, {6});
}

// Liveness is not execution: a batch five times longer than the heartbeat timeout succeeds,
// because the worker's own heartbeat speaks for it while the batch runs.
TEST_F(ProcessInstanceTest, BatchFiveTimesLongerThanTheHeartbeatTimeoutSucceeds) {
  const ModelConfig* config = WriteModel("slow", AddSubConfig(kSlow));
  ProcessInstanceOptions options = Options(*config);
  options.heartbeat_interval = milliseconds(20);
  options.heartbeat_timeout = milliseconds(200);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {2}, 10));  // 10 items of 100 ms: 1 s
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();
  EXPECT_EQ(instance->Health().pid, first_pid);
  EXPECT_EQ(instance->Health().restarts, 0);
  EXPECT_TRUE(events.events().empty());
}

// A worker whose processes hold more device memory than the recycling limit takes no new
// batches, answers the one it is executing, and is replaced by a fresh worker: no request fails.
TEST_F(ProcessInstanceTest, AWorkerPastItsDeviceMemoryLimitIsRecycledOnceIdle) {
  const ModelConfig* config = WriteModel("leaky", AddSubConfig(kSlow));
  ProcessInstanceOptions options = Options(*config);
  options.heartbeat_interval = milliseconds(20);
  auto leaked = std::make_shared<std::atomic<bool>>(false);
  auto first_pid = std::make_shared<std::atomic<long>>(0);
  auto measured = std::make_shared<std::atomic<int>>(0);  // measurements of the first worker
  // 50 MiB, or 150 MiB for the first worker once it has "leaked".
  options.device_memory_of = [=](long pid) -> std::optional<uint64_t> {
    if (pid != first_pid->load()) return uint64_t{50} << 20;
    ++*measured;
    return (leaked->load() ? uint64_t{150} : uint64_t{50}) << 20;
  };
  options.recycle_device_memory_bytes = uint64_t{100} << 20;
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  first_pid->store(instance->Health().pid);
  ASSERT_TRUE(Eventually([&] { return measured->load() >= 2; }));  // under the limit: kept
  EXPECT_TRUE(instance->available());

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {2}, 5));  // 5 items of 100 ms: in flight meanwhile
  std::vector<InferRequest*> views = {requests[0].get()};
  BatchResult running;
  instance->Execute(views, running.Done());
  leaked->store(true);
  ASSERT_TRUE(Eventually([&] { return !instance->available(); }));
  std::vector<RequestOutputs> outputs = running.Wait();
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();  // answered, not aborted

  EXPECT_EQ(events.WaitFor(3),
            (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                        InstanceEvent::kAvailable}));
  InstanceHealth health = instance->Health();
  EXPECT_NE(health.pid, first_pid->load());
  EXPECT_EQ(health.restarts, 1);
  EXPECT_EQ(health.state, "ready");
  EXPECT_EQ(health.last_error, "");  // a recycle is not a failure
  EXPECT_TRUE(instance->available());
  EXPECT_TRUE(Eventually([&] { return ProcessGone(first_pid->load()); }));
  std::vector<std::unique_ptr<InferRequest>> next;
  next.push_back(AddSubRequest({3}, {4}));
  outputs = Run(*instance, next);
  ASSERT_EQ(outputs.size(), 1u);
  ExpectAddSub(outputs[0], {3}, {4});
  EXPECT_EQ(instance->Health().restarts, 1);  // the new worker is under the limit: kept
}

// A batch past the model's execution timeout gets its worker killed and its requests answered
// DeadlineExceeded naming the timeout (not Aborted: the scheduler must not retry it).
TEST_F(ProcessInstanceTest, BatchPastTheExecutionTimeoutIsKilledAndAnsweredNamingIt) {
  const ModelConfig* config = WriteModel("slow", AddSubConfig(kSlow));
  ProcessInstanceOptions options = Options(*config);
  options.heartbeat_interval = milliseconds(20);
  options.execution_timeout = milliseconds(300);
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  long first_pid = instance->Health().pid;

  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {2}, 200));  // 20 s of work
  std::vector<InferRequest*> views = {requests[0].get()};
  BatchResult result;
  instance->Execute(views, result.Done());
  auto outputs = result.Wait();
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_FALSE(outputs[0].ok());
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kDeadlineExceeded)
      << outputs[0].status().ToString();
  EXPECT_TRUE(Contains(outputs[0].status().message(), "execution timeout of 300 ms"))
      << outputs[0].status().message();
  EXPECT_EQ(events.WaitFor(3),
            (std::vector<InstanceEvent>{InstanceEvent::kUnavailable, InstanceEvent::kRestarted,
                                        InstanceEvent::kAvailable}));
  EXPECT_TRUE(Eventually([&] { return ProcessGone(first_pid); })) << "the busy worker lives";
  EXPECT_NE(instance->Health().pid, first_pid);
}

TEST_F(ProcessInstanceTest, RestartsThatNeverBecomeReadyLeaveTheInstanceFailed) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.max_failed_restarts = 2;
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  // Workers read the config from the repository: from now on every new worker fails to load.
  RewriteConfig("adder", AddSubConfig(", bogus: 1"));
  ASSERT_EQ(kill(static_cast<pid_t>(instance->Health().pid), SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return instance->Health().state == "failed"; }))
      << instance->Health().state;
  InstanceHealth health = instance->Health();
  EXPECT_EQ(health.restarts, 0);
  EXPECT_EQ(health.pid, 0);
  EXPECT_TRUE(Contains(health.last_error, "parameters.bogus")) << health.last_error;
  EXPECT_FALSE(instance->available());
  EXPECT_EQ(events.events(), (std::vector<InstanceEvent>{InstanceEvent::kUnavailable}));
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {1}));
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kAborted);
}

TEST_F(ProcessInstanceTest, DestructionEndsAnIdleWorker) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  auto instance = StartOrDie(config, Options(*config));
  ASSERT_NE(instance, nullptr);
  long pid = instance->Health().pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(static_cast<pid_t>(pid), 0), 0);
  instance.reset();
  EXPECT_TRUE(ProcessGone(pid)) << "worker " << pid << " outlived its instance";
}

TEST_F(ProcessInstanceTest, DestructionAnswersPendingBatchesUnavailable) {
  const ModelConfig* config = WriteModel("slow", AddSubConfig(kSlow));
  ProcessInstanceOptions options = Options(*config);
  options.stop_timeout = milliseconds(100);  // the worker is busy for 20 s: it gets killed
  auto instance = StartOrDie(config, std::move(options));
  ASSERT_NE(instance, nullptr);
  long pid = instance->Health().pid;
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({1}, {2}, 200));
  std::vector<InferRequest*> views = {requests[0].get()};
  BatchResult result;
  instance->Execute(views, result.Done());
  instance.reset();
  EXPECT_EQ(result.calls(), 1) << "answered by the time the destructor returned";
  auto outputs = result.Wait();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kUnavailable) << outputs[0].status().ToString();
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(ProcessInstanceTest, StartedFromAThreadThatEndsKeepsItsWorker) {
  // Instances are started by loader threads that end; the worker's parent-death signal must
  // not fire when such a thread ends.
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  std::unique_ptr<ProcessInstance> instance;
  std::thread([&] { instance = StartOrDie(config, Options(*config)); }).join();
  ASSERT_NE(instance, nullptr);
  EventLog events;
  instance->SetObserver(events.Observer());
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(AddSubRequest({4}, {3}));
  auto outputs = Run(*instance, requests);
  ASSERT_EQ(outputs.size(), 1u);
  ExpectAddSub(outputs[0], {4}, {3});
  EXPECT_EQ(instance->Health().restarts, 0);
  EXPECT_TRUE(events.events().empty());
}

// A worker that dies just as its instance is destroyed: every batch is still answered exactly
// once, and no worker survives.
TEST_F(ProcessInstanceTest, DestroyedJustAfterItsWorkerDied) {
  const ModelConfig* config = WriteModel("slow", AddSubConfig(kSlow));
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ProcessInstanceOptions options = Options(*config);
    options.stop_timeout = milliseconds(100);
    auto instance = StartOrDie(config, std::move(options));
    ASSERT_NE(instance, nullptr);
    long pid = instance->Health().pid;
    std::vector<std::unique_ptr<InferRequest>> requests;
    requests.push_back(AddSubRequest({1}, {2}, 200));
    std::vector<InferRequest*> views = {requests[0].get()};
    BatchResult result;
    instance->Execute(views, result.Done());
    ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
    instance.reset();  // races with the reader noticing the loss
    EXPECT_EQ(result.calls(), 1);
    auto outputs = result.Wait();
    ASSERT_EQ(outputs.size(), 1u);
    StatusCode code = outputs[0].status().code();
    EXPECT_TRUE(code == StatusCode::kAborted || code == StatusCode::kUnavailable)
        << outputs[0].status().ToString();
    EXPECT_TRUE(ProcessGone(pid));
  }
}

// Pins every thread of process `pid` to CPU 0.
void PinProcessToCpu0(long pid) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    pid_t tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
    sched_setaffinity(tid, sizeof(one), &one);
  }
}

// The scheduler counts a slot free as soon as `done` is called, and dispatches the next batch
// from inside `done` (on the instance's reader thread). The instance must then take that batch,
// whatever the thread that sent the previous one is doing: the slot it answered is free.
TEST_F(ProcessInstanceTest, BatchSentFromTheDoneCallbackFindsTheSlotFree) {
  const ModelConfig* config = WriteModel("adder", AddSubConfig(""));
  ProcessInstanceOptions options = Options(*config);
  options.max_inflight_batches = 1;
  // One CPU for the sender, the reader and the worker: the worker's answer can overtake the
  // sender between its Send and its release of the slot.
  cpu_set_t one, old;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  ASSERT_EQ(sched_getaffinity(0, sizeof(old), &old), 0);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  auto instance = StartOrDie(config, std::move(options));  // its threads inherit the pinning
  ASSERT_NE(instance, nullptr);
  PinProcessToCpu0(instance->Health().pid);

  constexpr int kRounds = 300;
  int refused = 0;
  std::string first_refusal;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::unique_ptr<InferRequest>> first, second;
    first.push_back(AddSubRequest({round}, {1}));
    second.push_back(AddSubRequest({round}, {2}));
    std::vector<InferRequest*> first_views = {first[0].get()};
    std::vector<InferRequest*> second_views = {second[0].get()};
    BatchResult second_result;
    BatchResult first_result;
    BatchDone first_done = first_result.Done();
    instance->Execute(first_views, [&](std::vector<RequestOutputs> outputs) {
      instance->Execute(second_views, second_result.Done());  // as ModelScheduler does
      first_done(std::move(outputs));
    });
    auto a = first_result.Wait();
    auto b = second_result.Wait();
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    ExpectAddSub(a[0], {round}, {1});
    if (!b[0].ok()) {
      if (refused++ == 0) first_refusal = b[0].status().ToString();
      continue;
    }
    ExpectAddSub(b[0], {round}, {2});
  }
  sched_setaffinity(0, sizeof(old), &old);
  EXPECT_EQ(refused, 0) << refused << " of " << kRounds
                        << " batches sent from `done` were refused; the first: " << first_refusal;
}

}  // namespace
}  // namespace switchyard
