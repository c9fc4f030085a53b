#include "repository/config_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

constexpr char kPath[] = "models/x/config.yaml";

// The smallest valid config; rejection cases append to it or replace it.
constexpr char kMinimal[] =
    "backend: sim\n"
    "inputs: [{name: in, datatype: FP32, shape: [4]}]\n"
    "outputs: [{name: out, datatype: FP32, shape: [4]}]\n";

StatusOr<ModelConfig> Parse(const std::string& yaml) { return ParseModelConfig(yaml, "x", kPath); }

TEST(ConfigParserTest, MinimalConfigGetsDefaults) {
  auto config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ModelConfig defaults;
  EXPECT_EQ(config->name, "x");
  EXPECT_EQ(config->backend, "sim");
  EXPECT_EQ(config->max_batch_size, 0);
  ASSERT_EQ(config->inputs.size(), 1u);
  EXPECT_EQ(config->inputs[0].name, "in");
  EXPECT_EQ(config->inputs[0].datatype, DataType::kFp32);
  EXPECT_EQ(config->inputs[0].dims, Shape({4}));
  ASSERT_EQ(config->outputs.size(), 1u);
  EXPECT_EQ(config->outputs[0].name, "out");
  const InstanceConfig& instances = config->instances;
  EXPECT_TRUE(instances.all_devices);
  EXPECT_FALSE(instances.cpu);
  EXPECT_TRUE(instances.device_ids.empty());
  EXPECT_EQ(instances.per_device, 0);
  EXPECT_EQ(instances.max_per_device, defaults.instances.max_per_device);
  EXPECT_EQ(instances.gpus_per_instance, 1);
  EXPECT_FALSE(instances.vram_mb.has_value());
  EXPECT_EQ(instances.isolation, defaults.instances.isolation);
  EXPECT_EQ(instances.max_inflight_batches, 2);
  EXPECT_EQ(config->batching.max_queue_delay_us, 500);
  EXPECT_TRUE(config->batching.preferred_batch_sizes.empty());
  EXPECT_EQ(config->queue.max_size, 512);
  EXPECT_EQ(config->queue.timeout_ms, 30000);
  EXPECT_EQ(config->queue.priority_levels, 1);
  EXPECT_EQ(config->routing, RoutingPolicy::kFastest);
  EXPECT_TRUE(config->idempotent);
  EXPECT_EQ(config->warmup.requests, 4);
  EXPECT_TRUE(config->parameters.empty());
}

TEST(ConfigParserTest, FullConfigRoundTrips) {
  auto config = Parse(R"(
backend: torch
max_batch_size: 32
inputs:
  - {name: image, datatype: UINT8, shape: [-1, 224, 3]}
  - name: mask
    datatype: BOOL
    shape: []
outputs:
  - {name: logits, datatype: FP16, shape: [1000]}
  - {name: label, datatype: BYTES, shape: [1]}
instances:
  devices: [2, 0]
  per_device: 3
  max_per_device: 6
  gpus_per_instance: 2
  vram_mb: 4096
  isolation: process
  max_inflight_batches: 4
batching:
  max_queue_delay_us: 0
  preferred_batch_sizes: [8, 32]
queue:
  max_size: 1
  timeout_ms: 0
  priority_levels: 3
routing: p2c
warmup: {requests: 0}
parameters:
  function: add_sub
  seed: 7
  jitter: 0.25
  enabled: true
  quoted: "a: b"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backend, "torch");
  EXPECT_EQ(config->max_batch_size, 32);
  ASSERT_EQ(config->inputs.size(), 2u);
  EXPECT_EQ(config->inputs[0].name, "image");
  EXPECT_EQ(config->inputs[0].datatype, DataType::kUint8);
  EXPECT_EQ(config->inputs[0].dims, Shape({-1, 224, 3}));
  EXPECT_EQ(config->inputs[1].name, "mask");
  EXPECT_EQ(config->inputs[1].datatype, DataType::kBool);
  EXPECT_TRUE(config->inputs[1].dims.empty());
  ASSERT_EQ(config->outputs.size(), 2u);
  EXPECT_EQ(config->outputs[0].datatype, DataType::kFp16);
  EXPECT_EQ(config->outputs[1].name, "label");
  EXPECT_EQ(config->outputs[1].datatype, DataType::kBytes);
  const InstanceConfig& instances = config->instances;
  EXPECT_FALSE(instances.all_devices);
  EXPECT_FALSE(instances.cpu);
  EXPECT_EQ(instances.device_ids, std::vector<int>({2, 0}));
  EXPECT_EQ(instances.per_device, 3);
  EXPECT_EQ(instances.max_per_device, 6);
  EXPECT_EQ(instances.gpus_per_instance, 2);
  EXPECT_EQ(instances.vram_mb, std::optional<int64_t>(4096));
  EXPECT_EQ(instances.isolation, Isolation::kProcess);
  EXPECT_EQ(instances.max_inflight_batches, 4);
  EXPECT_EQ(config->batching.max_queue_delay_us, 0);
  EXPECT_EQ(config->batching.preferred_batch_sizes, std::vector<int>({8, 32}));
  EXPECT_EQ(config->queue.max_size, 1);
  EXPECT_EQ(config->queue.timeout_ms, 0);
  EXPECT_EQ(config->queue.priority_levels, 3);
  EXPECT_EQ(config->routing, RoutingPolicy::kPowerOfTwo);
  EXPECT_EQ(config->warmup.requests, 0);
  const std::map<std::string, std::string> parameters = {{"function", "add_sub"},
                                                         {"seed", "7"},
                                                         {"jitter", "0.25"},
                                                         {"enabled", "true"},
                                                         {"quoted", "a: b"}};
  EXPECT_EQ(config->parameters, parameters);
}

TEST(ConfigParserTest, DesignDocumentExampleParses) {
  auto config = Parse(R"(
backend: torch                 # torch | exec | sim | cuda (built-in GPU load generator)
max_batch_size: 64             # 0: the model takes no batch dimension
inputs:  [{name: input,  datatype: FP32, shape: [3, 224, 224]}]
outputs: [{name: logits, datatype: FP32, shape: [1000]}]
instances:
  devices: all                 # all | [0, 1] | cpu ; honours CUDA_VISIBLE_DEVICES
  per_device: auto
  gpus_per_instance: 1
  vram_mb: measure
  isolation: process
batching:
  max_queue_delay_us: 500
  preferred_batch_sizes: []
queue:
  max_size: 512
  timeout_ms: 30000
  priority_levels: 1
routing: fastest
warmup: {requests: 4}
parameters: {}
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->instances.all_devices);
  EXPECT_EQ(config->instances.per_device, 0);
  EXPECT_FALSE(config->instances.vram_mb.has_value());
  EXPECT_EQ(config->instances.isolation, Isolation::kProcess);
}

TEST(ConfigParserTest, DevicesCpu) {
  auto config = Parse(std::string(kMinimal) + "instances: {devices: cpu, isolation: thread}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->instances.cpu);
  EXPECT_FALSE(config->instances.all_devices);
  EXPECT_TRUE(config->instances.device_ids.empty());
  EXPECT_EQ(config->instances.isolation, Isolation::kThread);
}

TEST(ConfigParserTest, EveryRoutingPolicyParses) {
  for (RoutingPolicy policy : {RoutingPolicy::kFastest, RoutingPolicy::kLeastOutstanding,
                               RoutingPolicy::kPowerOfTwo, RoutingPolicy::kRoundRobin}) {
    auto config =
        Parse(std::string(kMinimal) + "routing: " + std::string(RoutingPolicyName(policy)) + "\n");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->routing, policy);
  }
}

TEST(ConfigParserTest, IdempotentIsTrueOrFalse) {
  auto config = Parse(std::string(kMinimal) + "idempotent: false\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->idempotent);
  auto wrong = Parse(std::string(kMinimal) + "idempotent: maybe\n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("idempotent: unknown value"), std::string::npos)
      << wrong.status().message();
}

TEST(ConfigParserTest, DatatypeErrorMessageIsExact) {
  auto config = Parse(R"(
backend: sim
inputs: [{name: a, datatype: FP32, shape: [1]}, {name: b, datatype: FP33, shape: [1]}]
outputs: [{name: out, datatype: FP32, shape: [1]}]
)");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "models/x/config.yaml: inputs[1].datatype: unknown datatype 'FP33' (expected one of "
            "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, "
            "FP64, BYTES)");
}

TEST(ConfigParserTest, SyntaxErrorReportsLineAndColumn) {
  auto config = Parse("backend: sim\ninputs: [{name: a\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(config.status().message().starts_with("models/x/config.yaml: line "))
      << config.status().message();
  EXPECT_NE(config.status().message().find("column"), std::string::npos);
}

TEST(ConfigParserTest, SyntaxErrorLineIsOneBased) {
  auto config = Parse("backend: sim\nbackend: [\n  - \"\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("line 3,"), std::string::npos)
      << config.status().message();
}

TEST(ConfigParserTest, DocumentMustBeAMapping) {
  for (const char* yaml : {"", "- a\n", "just text\n"}) {
    auto config = Parse(yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_TRUE(config.status().message().starts_with("models/x/config.yaml: expected a mapping"))
        << config.status().message();
  }
}

struct Rejection {
  std::string yaml;
  std::string field;     // the dotted path the message must name
  std::string expected;  // a part of what the message says was expected
};

// Prints the case's YAML in failure messages.
void PrintTo(const Rejection& r, std::ostream* os) { *os << r.field << " <- " << r.yaml; }

class ConfigRejectionTest : public testing::TestWithParam<Rejection> {};

TEST_P(ConfigRejectionTest, MessageNamesFileFieldAndExpectation) {
  auto config = Parse(GetParam().yaml);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  const std::string message = config.status().message();
  EXPECT_TRUE(message.starts_with(std::string(kPath) + ": " + GetParam().field + ": ")) << message;
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

std::string With(const std::string& extra) { return std::string(kMinimal) + extra; }

// A config whose only input is `input` (a flow mapping's contents).
std::string WithInput(const std::string& input) {
  return "backend: sim\ninputs: [{" + input +
         "}]\noutputs: [{name: out, datatype: FP32, shape: [1]}]\n";
}

INSTANTIATE_TEST_SUITE_P(
    TopLevel, ConfigRejectionTest,
    testing::Values(
        Rejection{With("colour: red\n"), "colour", "unknown key (expected one of backend,"},
        Rejection{With("backend: torch\n"), "backend", "duplicate key"},
        Rejection{"inputs: [{name: a, datatype: FP32, shape: [1]}]\n"
                  "outputs: [{name: b, datatype: FP32, shape: [1]}]\n",
                  "backend", "required field missing"},
        Rejection{"backend: onnx\n", "backend",
                  "'onnx' (expected one of torch, exec, python, sim, cuda)"},
        Rejection{"backend: Sim\n", "backend", "expected one of"},
        Rejection{"backend: [sim]\n", "backend", "unknown value a list"},
        Rejection{With("max_batch_size: -1\n"), "max_batch_size", "expected an integer >= 0"},
        Rejection{With("max_batch_size: 1.5\n"), "max_batch_size", "expected an integer"},
        Rejection{With("max_batch_size: \"8\"\n"), "max_batch_size", "expected an integer"},
        Rejection{With("max_batch_size: 0x10\n"), "max_batch_size", "expected an integer"},
        Rejection{With("max_batch_size: 99999999999\n"), "max_batch_size",
                  "expected an integer <= 2147483647"},
        Rejection{With("max_batch_size:\n"), "max_batch_size", "got null"},
        Rejection{With("routing: random\n"), "routing",
                  "expected one of fastest, least_outstanding, p2c, round_robin"},
        Rejection{With("warmup: {requests: -1}\n"), "warmup.requests", "expected an integer >= 0"},
        Rejection{With("warmup: 4\n"), "warmup", "expected a mapping"},
        Rejection{With("warmup: {request: 4}\n"), "warmup.request", "unknown key"},
        Rejection{With("parameters: [a, b]\n"), "parameters", "expected a mapping"},
        Rejection{With("parameters: {a: [1]}\n"), "parameters.a", "expected a scalar value"},
        Rejection{With("parameters: {a: {b: c}}\n"), "parameters.a", "expected a scalar value"},
        Rejection{With("parameters: {a: 1, a: 2}\n"), "parameters.a", "duplicate key"},
        Rejection{With("parameters:\n  a:\n"), "parameters.a", "got null"},
        Rejection{With("environment: {1ST: x}\n"), "environment.1ST", "not a variable name"},
        Rejection{With("environment: {A-B: x}\n"), "environment.A-B", "not a variable name"},
        Rejection{With("environment: {CUDA_VISIBLE_DEVICES: \"0\"}\n"),
                  "environment.CUDA_VISIBLE_DEVICES", "set by the server"},
        Rejection{With("environment: {SWITCHYARD_MODEL_DIR: /x}\n"),
                  "environment.SWITCHYARD_MODEL_DIR", "set by the server"},
        Rejection{With("environment: [A]\n"), "environment", "expected a mapping"},
        Rejection{With("instances: {execution_timeout_ms: -1}\n"), "instances.execution_timeout_ms",
                  "expected an integer >= 0"},
        Rejection{With("instances: {recycle_vram_mb: -5}\n"), "instances.recycle_vram_mb",
                  "expected an integer >= 0"}));

TEST(ConfigParserTest, EnvironmentAndExecutionTimeoutParse) {
  auto config =
      Parse(With("environment: {HF_HOME: /models/cache, OMP_NUM_THREADS: 2}\n"
                 "instances: {execution_timeout_ms: 600000, recycle_vram_mb: 6144}\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->environment, (std::map<std::string, std::string>{{"HF_HOME", "/models/cache"},
                                                                     {"OMP_NUM_THREADS", "2"}}));
  EXPECT_EQ(config->instances.execution_timeout_ms, 600000);
  EXPECT_EQ(Parse(kMinimal)->instances.execution_timeout_ms, 0);
  EXPECT_EQ(config->instances.recycle_vram_mb, 6144);
  EXPECT_EQ(Parse(kMinimal)->instances.recycle_vram_mb, 0);
}

TEST(ConfigParserTest, PythonModelWithoutTensorsTakesHttpEnvelopes) {
  auto config = Parse("backend: python\nmax_batch_size: 4\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->http_envelope);
  ASSERT_EQ(config->inputs.size(), 1u);
  EXPECT_EQ(config->inputs[0].name, "request");
  EXPECT_EQ(config->inputs[0].datatype, DataType::kBytes);
  EXPECT_EQ(config->inputs[0].dims, Shape{1});
  ASSERT_EQ(config->outputs.size(), 1u);
  EXPECT_EQ(config->outputs[0].name, "response");
  EXPECT_FALSE(config->warmup.requests_given);

  auto declared = Parse(
      "backend: python\ninputs: [{name: a, datatype: INT32, shape: [2]}]\n"
      "outputs: [{name: b, datatype: INT32, shape: [2]}]\nwarmup: {requests: 2}\n");
  ASSERT_TRUE(declared.ok()) << declared.status().ToString();
  EXPECT_FALSE(declared->http_envelope);
  EXPECT_EQ(declared->inputs[0].name, "a");
  EXPECT_TRUE(declared->warmup.requests_given);
}

INSTANTIATE_TEST_SUITE_P(
    Python, ConfigRejectionTest,
    testing::Values(Rejection{"backend: python\ninputs: [{name: a, datatype: FP32, shape: [1]}]\n",
                              "outputs", "declares both inputs and outputs, or neither"},
                    Rejection{"backend: exec\n", "inputs", "required field missing"}));

INSTANTIATE_TEST_SUITE_P(
    Tensors, ConfigRejectionTest,
    testing::Values(
        Rejection{"backend: sim\noutputs: [{name: b, datatype: FP32, shape: [1]}]\n", "inputs",
                  "required field missing"},
        Rejection{"backend: sim\ninputs: [{name: a, datatype: FP32, shape: [1]}]\n", "outputs",
                  "required field missing"},
        Rejection{"backend: sim\ninputs: []\noutputs: [{name: b, datatype: FP32, shape: [1]}]\n",
                  "inputs", "expected at least one tensor"},
        Rejection{"backend: sim\ninputs: [{name: a, datatype: FP32, shape: [1]}]\noutputs: {}\n",
                  "outputs", "expected a list"},
        Rejection{WithInput("name: a, datatype: fp32, shape: [1]"), "inputs[0].datatype",
                  "unknown datatype 'fp32' (expected one of BOOL, UINT8"},
        Rejection{WithInput("name: a, datatype: [FP32], shape: [1]"), "inputs[0].datatype",
                  "unknown datatype a list"},
        Rejection{WithInput("name: a, shape: [1]"), "inputs[0].datatype", "required field missing"},
        Rejection{WithInput("name: a, datatype: FP32"), "inputs[0].shape",
                  "required field missing"},
        Rejection{WithInput("datatype: FP32, shape: [1]"), "inputs[0].name",
                  "required field missing"},
        Rejection{WithInput("name: a, datatype: FP32, dims: [1]"), "inputs[0].dims",
                  "unknown key (expected one of name, datatype, shape)"},
        Rejection{WithInput("name: a, datatype: FP32, shape: [2, 0]"), "inputs[0].shape[1]",
                  "expected a dimension >= 1 or -1"},
        Rejection{WithInput("name: a, datatype: FP32, shape: [-2]"), "inputs[0].shape[0]",
                  "expected a dimension >= 1 or -1"},
        Rejection{WithInput("name: a, datatype: FP32, shape: [x]"), "inputs[0].shape[0]",
                  "expected a dimension >= 1 or -1"},
        Rejection{WithInput("name: a, datatype: FP32, shape: 4"), "inputs[0].shape",
                  "expected a list, got '4'"},
        Rejection{WithInput("name: '', datatype: FP32, shape: [1]"), "inputs[0].name",
                  "expected a non-empty name"},
        Rejection{WithInput("name: [a], datatype: FP32, shape: [1]"), "inputs[0].name",
                  "expected a string"},
        Rejection{"backend: sim\ninputs: [a]\noutputs: [{name: b, datatype: FP32, shape: [1]}]\n",
                  "inputs[0]", "expected a mapping"},
        Rejection{"backend: sim\ninputs: [{name: a, datatype: FP32, shape: [1]}]\n"
                  "outputs: [{name: b, datatype: FP32, shape: [1]},"
                  " {name: b, datatype: INT8, shape: [1]}]\n",
                  "outputs[1].name", "duplicate name 'b'"}));

INSTANTIATE_TEST_SUITE_P(
    Instances, ConfigRejectionTest,
    testing::Values(
        Rejection{With("instances: {device: all}\n"), "instances.device", "unknown key"},
        Rejection{With("instances: all\n"), "instances", "expected a mapping"},
        Rejection{With("instances: {devices: gpu}\n"), "instances.devices",
                  "expected 'all', 'cpu' or a non-empty list of device indices, got 'gpu'"},
        Rejection{With("instances: {devices: []}\n"), "instances.devices", "non-empty list"},
        Rejection{With("instances: {devices: [0, -1]}\n"), "instances.devices[1]",
                  "expected an integer >= 0"},
        Rejection{With("instances: {devices: [1, 1]}\n"), "instances.devices[1]",
                  "duplicate device 1"},
        Rejection{With("instances: {per_device: 0}\n"), "instances.per_device",
                  "expected an integer >= 1 or 'auto'"},
        Rejection{With("instances: {per_device: many}\n"), "instances.per_device",
                  "expected an integer >= 1 or 'auto', got 'many'"},
        Rejection{With("instances: {max_per_device: 0}\n"), "instances.max_per_device",
                  "expected an integer >= 1"},
        Rejection{With("instances: {gpus_per_instance: 0}\n"), "instances.gpus_per_instance",
                  "expected an integer >= 1"},
        Rejection{With("instances: {vram_mb: 0}\n"), "instances.vram_mb",
                  "expected an integer >= 1 or 'measure'"},
        Rejection{With("instances: {vram_mb: lots}\n"), "instances.vram_mb", "'measure'"},
        Rejection{With("instances: {isolation: container}\n"), "instances.isolation",
                  "'container' (expected one of process, thread)"},
        Rejection{With("instances: {max_inflight_batches: 0}\n"), "instances.max_inflight_batches",
                  "expected an integer >= 1"}));

INSTANTIATE_TEST_SUITE_P(
    BatchingAndQueue, ConfigRejectionTest,
    testing::Values(
        Rejection{With("batching: {max_queue_delay_us: -1}\n"), "batching.max_queue_delay_us",
                  "expected an integer >= 0"},
        Rejection{With("max_batch_size: 8\nbatching: {preferred_batch_sizes: [0]}\n"),
                  "batching.preferred_batch_sizes[0]", "expected an integer >= 1"},
        Rejection{With("max_batch_size: 8\nbatching: {preferred_batch_sizes: [4, 16]}\n"),
                  "batching.preferred_batch_sizes[1]", "16 exceeds max_batch_size (8)"},
        Rejection{With("batching: {preferred_batch_sizes: [1]}\n"),
                  "batching.preferred_batch_sizes[0]", "1 exceeds max_batch_size (0)"},
        Rejection{With("batching: {preferred_batch_sizes: 4}\n"), "batching.preferred_batch_sizes",
                  "expected a list"},
        Rejection{With("batching: {max_delay_us: 5}\n"), "batching.max_delay_us", "unknown key"},
        Rejection{With("queue: {max_size: 0}\n"), "queue.max_size", "expected an integer >= 1"},
        Rejection{With("queue: {timeout_ms: -1}\n"), "queue.timeout_ms",
                  "expected an integer >= 0"},
        Rejection{With("queue: {priority_levels: 0}\n"), "queue.priority_levels",
                  "expected an integer >= 1"},
        Rejection{With("queue: {size: 4}\n"), "queue.size", "unknown key"}));

}  // namespace
}  // namespace switchyard
