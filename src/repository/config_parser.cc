#include "repository/config_parser.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace switchyard {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

// How a node looks in an error message.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// A plain (unquoted) scalar: only these are read as numbers, so `"8"` is a string, not 8.
bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

// Decimal integer: optional '-' then digits. nullopt for anything else or on overflow.
std::optional<int64_t> ParseDecimal(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::string JoinNames(std::span<const std::string_view> names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string DataTypeNames() {
  std::vector<std::string_view> names;
  for (int t = static_cast<int>(DataType::kBool); t <= static_cast<int>(DataType::kBytes); ++t) {
    names.push_back(DataTypeName(static_cast<DataType>(t)));
  }
  return JoinNames(names);
}

// One key of a mapping and what to do with its value (node, dotted path of the value).
struct Field {
  std::string_view key;
  std::function<Status(const YAML::Node&, const std::string&)> read;
  bool required = false;
};

// Reads one config file into a ModelConfig. Every error names the file and the field.
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view file_path) : file_path_(file_path) {}

  Status Read(const YAML::Node& root, ModelConfig* config) {
    RETURN_IF_ERROR(ReadMap(
        root, "",
        {
            {"backend",
             [&](const YAML::Node& n, const std::string& p) {
               std::string_view backend;
               RETURN_IF_ERROR(ReadEnum(n, p,
                                        {{"torch", "torch"},
                                         {"exec", "exec"},
                                         {"python", "python"},
                                         {"sim", "sim"},
                                         {"cuda", "cuda"}},
                                        &backend));
               config->backend = std::string(backend);
               return Status::Ok();
             },
             true},
            {"max_batch_size",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadInt(n, p, 0, kIntMax, &config->max_batch_size);
             }},
            {"inputs",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadTensorSpecs(n, p, &config->inputs);
             }},
            {"outputs",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadTensorSpecs(n, p, &config->outputs);
             }},
            {"instances",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadInstances(n, p, &config->instances);
             }},
            {"batching",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadBatching(n, p, &config->batching);
             }},
            {"queue", [&](const YAML::Node& n,
                          const std::string& p) { return ReadQueue(n, p, &config->queue); }},
            {"routing",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadEnum(n, p,
                               {{"fastest", RoutingPolicy::kFastest},
                                {"least_outstanding", RoutingPolicy::kLeastOutstanding},
                                {"p2c", RoutingPolicy::kPowerOfTwo},
                                {"round_robin", RoutingPolicy::kRoundRobin}},
                               &config->routing);
             }},
            {"idempotent",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadEnum(n, p, {{"true", true}, {"false", false}}, &config->idempotent);
             }},
            {"warmup",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadMap(n, p, {{"requests", [&](const YAML::Node& v, const std::string& q) {
                                        config->warmup.requests_given = true;
                                        return ReadInt(v, q, 0, kIntMax, &config->warmup.requests);
                                      }}});
             }},
            {"parameters",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadParameters(n, p, &config->parameters);
             }},
            {"environment",
             [&](const YAML::Node& n, const std::string& p) {
               return ReadEnvironment(n, p, &config->environment);
             }},
        }));
    RETURN_IF_ERROR(CheckInputsAndOutputs(config));
    const auto& preferred = config->batching.preferred_batch_sizes;
    for (std::size_t i = 0; i < preferred.size(); ++i) {
      if (preferred[i] > config->max_batch_size) {
        return Error(
            Index("batching.preferred_batch_sizes", i),
            fmt::format("{} exceeds max_batch_size ({})", preferred[i], config->max_batch_size));
      }
    }
    return Status::Ok();
  }

  // Inputs and outputs are required, except that a python model may leave out both: it then
  // takes HTTP envelopes (ModelConfig::http_envelope).
  Status CheckInputsAndOutputs(ModelConfig* config) const {
    const bool python = config->backend == "python";
    if (python && config->inputs.empty() && config->outputs.empty()) {
      config->http_envelope = true;
      config->inputs = {{"request", DataType::kBytes, {1}}};
      config->outputs = {{"response", DataType::kBytes, {1}}};
      return Status::Ok();
    }
    for (const auto& [specs, key] :
         {std::pair{&config->inputs, "inputs"}, std::pair{&config->outputs, "outputs"}}) {
      if (!specs->empty()) continue;
      return Error(key, python ? "required field missing (a python model declares both inputs "
                                 "and outputs, or neither)"
                               : "required field missing");
    }
    return Status::Ok();
  }

  Status Error(const std::string& path, std::string_view what) const {
    if (path.empty()) return InvalidArgument(fmt::format("{}: {}", file_path_, what));
    return InvalidArgument(fmt::format("{}: {}: {}", file_path_, path, what));
  }

 private:
  template <typename T>
  struct EnumName {
    std::string_view name;
    T value;
  };

  // Dispatches each key of the mapping `node` to its Field; unknown, duplicate and missing
  // required keys are errors.
  Status ReadMap(const YAML::Node& node, const std::string& path,
                 std::initializer_list<Field> fields) {
    if (!node.IsMap()) {
      return Error(path, fmt::format("expected a mapping, got {}", Describe(node)));
    }
    std::set<std::string_view> seen;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return Error(path, fmt::format("expected keys to be names, got {}", Describe(entry.first)));
      }
      const std::string& key = entry.first.Scalar();
      const Field* field = nullptr;
      for (const Field& f : fields) {
        if (f.key == key) field = &f;
      }
      if (field == nullptr) {
        std::vector<std::string_view> keys;
        for (const Field& f : fields) keys.push_back(f.key);
        return Error(Join(path, key),
                     fmt::format("unknown key (expected one of {})", JoinNames(keys)));
      }
      if (!seen.insert(field->key).second) return Error(Join(path, key), "duplicate key");
      RETURN_IF_ERROR(field->read(entry.second, Join(path, key)));
    }
    for (const Field& f : fields) {
      if (f.required && !seen.contains(f.key)) {
        return Error(Join(path, f.key), "required field missing");
      }
    }
    return Status::Ok();
  }

  // An integer in [min, max].
  template <typename T>
  Status ReadInt(const YAML::Node& node, const std::string& path, int64_t min, int64_t max,
                 T* out) {
    std::optional<int64_t> value;
    if (IsPlainScalar(node)) value = ParseDecimal(node.Scalar());
    if (value.has_value() && *value > max) {
      return Error(path, fmt::format("expected an integer <= {}, got {}", max, Describe(node)));
    }
    if (!value.has_value() || *value < min) {
      return Error(path, fmt::format("expected an integer >= {}, got {}", min, Describe(node)));
    }
    *out = static_cast<T>(*value);
    return Status::Ok();
  }

  // An integer in [min, max], or the word `keyword`, which stores `keyword_value`.
  template <typename T>
  Status ReadIntOr(const YAML::Node& node, const std::string& path, int64_t min, int64_t max,
                   std::string_view keyword, T keyword_value, T* out) {
    if (node.IsScalar() && node.Scalar() == keyword) {
      *out = keyword_value;
      return Status::Ok();
    }
    int64_t value = 0;
    if (!ReadInt(node, path, min, max, &value).ok()) {
      return Error(path, fmt::format("expected an integer >= {} or '{}', got {}", min, keyword,
                                     Describe(node)));
    }
    *out = static_cast<T>(value);
    return Status::Ok();
  }

  Status ReadString(const YAML::Node& node, const std::string& path, std::string* out) {
    if (!node.IsScalar()) {
      return Error(path, fmt::format("expected a string, got {}", Describe(node)));
    }
    *out = node.Scalar();
    return Status::Ok();
  }

  // One of `names`.
  template <typename T, std::size_t N>
  Status ReadEnum(const YAML::Node& node, const std::string& path, const EnumName<T> (&names)[N],
                  T* out) {
    if (node.IsScalar()) {
      for (const auto& n : names) {
        if (n.name == node.Scalar()) {
          *out = n.value;
          return Status::Ok();
        }
      }
    }
    std::vector<std::string_view> valid;
    for (const auto& n : names) valid.push_back(n.name);
    return Error(path, fmt::format("unknown value {} (expected one of {})", Describe(node),
                                   JoinNames(valid)));
  }

  // A list whose elements are read by `read_element(element, path of the element)`.
  Status ReadList(
      const YAML::Node& node, const std::string& path,
      const std::function<Status(const YAML::Node&, const std::string&)>& read_element) {
    if (!node.IsSequence()) {
      return Error(path, fmt::format("expected a list, got {}", Describe(node)));
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      RETURN_IF_ERROR(read_element(node[i], Index(path, i)));
    }
    return Status::Ok();
  }

  Status ReadTensorSpecs(const YAML::Node& node, const std::string& path,
                         std::vector<TensorSpec>* specs) {
    RETURN_IF_ERROR(ReadList(node, path, [&](const YAML::Node& element, const std::string& p) {
      TensorSpec spec;
      RETURN_IF_ERROR(ReadMap(
          element, p,
          {{"name",
            [&](const YAML::Node& n, const std::string& q) {
              RETURN_IF_ERROR(ReadString(n, q, &spec.name));
              return spec.name.empty() ? Error(q, "expected a non-empty name") : Status::Ok();
            },
            true},
           {"datatype",
            [&](const YAML::Node& n, const std::string& q) {
              std::optional<DataType> type;
              if (n.IsScalar()) type = ParseDataType(n.Scalar());
              if (!type.has_value()) {
                return Error(q, fmt::format("unknown datatype {} (expected one of {})", Describe(n),
                                            DataTypeNames()));
              }
              spec.datatype = *type;
              return Status::Ok();
            },
            true},
           {"shape",
            [&](const YAML::Node& n, const std::string& q) { return ReadDims(n, q, &spec.dims); },
            true}}));
      for (const TensorSpec& other : *specs) {
        if (other.name == spec.name) {
          return Error(Join(p, "name"), fmt::format("duplicate name '{}'", spec.name));
        }
      }
      specs->push_back(std::move(spec));
      return Status::Ok();
    }));
    if (specs->empty()) return Error(path, "expected at least one tensor");
    return Status::Ok();
  }

  Status ReadDims(const YAML::Node& node, const std::string& path, Shape* dims) {
    return ReadList(node, path, [&](const YAML::Node& element, const std::string& p) {
      int64_t dim = 0;
      if (!ReadInt(element, p, -1, kInt64Max, &dim).ok() || dim == 0) {
        return Error(p, fmt::format("expected a dimension >= 1 or -1 (variable), got {}",
                                    Describe(element)));
      }
      dims->push_back(dim);
      return Status::Ok();
    });
  }

  Status ReadDevices(const YAML::Node& node, const std::string& path, InstanceConfig* instances) {
    if (node.IsScalar() && (node.Scalar() == "all" || node.Scalar() == "cpu")) {
      instances->cpu = node.Scalar() == "cpu";
      instances->all_devices = !instances->cpu;
      instances->device_ids.clear();
      return Status::Ok();
    }
    if (!node.IsSequence() || node.size() == 0) {
      return Error(path, fmt::format("expected 'all', 'cpu' or a non-empty list of device indices, "
                                     "got {}",
                                     Describe(node)));
    }
    instances->all_devices = false;
    instances->cpu = false;
    instances->device_ids.clear();
    return ReadList(node, path, [&](const YAML::Node& element, const std::string& p) {
      int id = 0;
      RETURN_IF_ERROR(ReadInt(element, p, 0, kIntMax, &id));
      for (int other : instances->device_ids) {
        if (other == id) return Error(p, fmt::format("duplicate device {}", id));
      }
      instances->device_ids.push_back(id);
      return Status::Ok();
    });
  }

  Status ReadInstances(const YAML::Node& node, const std::string& path, InstanceConfig* instances) {
    return ReadMap(node, path,
                   {{"devices", [&](const YAML::Node& n,
                                    const std::string& p) { return ReadDevices(n, p, instances); }},
                    {"per_device",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadIntOr(n, p, 1, kIntMax, "auto", 0, &instances->per_device);
                     }},
                    {"max_per_device",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 1, kIntMax, &instances->max_per_device);
                     }},
                    {"gpus_per_instance",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 1, kIntMax, &instances->gpus_per_instance);
                     }},
                    {"vram_mb",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadIntOr(n, p, 1, kInt64Max, "measure", std::optional<int64_t>(),
                                        &instances->vram_mb);
                     }},
                    {"isolation",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadEnum(
                           n, p, {{"process", Isolation::kProcess}, {"thread", Isolation::kThread}},
                           &instances->isolation);
                     }},
                    {"max_inflight_batches",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 1, kIntMax, &instances->max_inflight_batches);
                     }},
                    {"execution_timeout_ms",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 0, kInt64Max, &instances->execution_timeout_ms);
                     }},
                    {"recycle_vram_mb", [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 0, kInt64Max >> 20, &instances->recycle_vram_mb);
                     }}});
  }

  Status ReadBatching(const YAML::Node& node, const std::string& path, BatchingConfig* batching) {
    return ReadMap(node, path,
                   {{"max_queue_delay_us",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 0, kInt64Max, &batching->max_queue_delay_us);
                     }},
                    {"preferred_batch_sizes", [&](const YAML::Node& n, const std::string& p) {
                       batching->preferred_batch_sizes.clear();
                       return ReadList(n, p, [&](const YAML::Node& element, const std::string& q) {
                         int size = 0;
                         RETURN_IF_ERROR(ReadInt(element, q, 1, kIntMax, &size));
                         batching->preferred_batch_sizes.push_back(size);
                         return Status::Ok();
                       });
                     }}});
  }

  Status ReadQueue(const YAML::Node& node, const std::string& path, QueueConfig* queue) {
    return ReadMap(node, path,
                   {{"max_size",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 1, kIntMax, &queue->max_size);
                     }},
                    {"timeout_ms",
                     [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 0, kInt64Max, &queue->timeout_ms);
                     }},
                    {"priority_levels", [&](const YAML::Node& n, const std::string& p) {
                       return ReadInt(n, p, 1, kIntMax, &queue->priority_levels);
                     }}});
  }

  Status ReadEnvironment(const YAML::Node& node, const std::string& path,
                         std::map<std::string, std::string>* environment) {
    RETURN_IF_ERROR(ReadParameters(node, path, environment));
    for (const auto& [name, value] : *environment) {
      const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                         });
      if (!valid) return Error(Join(path, name), "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
      if (name == "CUDA_VISIBLE_DEVICES" || name.starts_with("SWITCHYARD_")) {
        return Error(Join(path, name),
                     "set by the server (it pins each instance to its GPUs and tells its "
                     "programs where they run)");
      }
      if (value.find('\0') != std::string::npos) return Error(Join(path, name), "holds a NUL");
    }
    return Status::Ok();
  }

  Status ReadParameters(const YAML::Node& node, const std::string& path,
                        std::map<std::string, std::string>* parameters) {
    if (!node.IsMap()) {
      return Error(path, fmt::format("expected a mapping, got {}", Describe(node)));
    }
    for (const auto& entry : node) {
      if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
        return Error(path, fmt::format("expected keys to be names, got {}", Describe(entry.first)));
      }
      const std::string key_path = Join(path, entry.first.Scalar());
      if (!entry.second.IsScalar()) {
        return Error(key_path,
                     fmt::format("expected a scalar value, got {}", Describe(entry.second)));
      }
      if (!parameters->emplace(entry.first.Scalar(), entry.second.Scalar()).second) {
        return Error(key_path, "duplicate key");
      }
    }
    return Status::Ok();
  }

  std::string file_path_;
};

}  // namespace

StatusOr<ModelConfig> ParseModelConfig(std::string_view yaml_text, std::string_view model_name,
                                       std::string_view file_path) {
  ConfigReader reader(file_path);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    ModelConfig config;
    config.name = std::string(model_name);
    RETURN_IF_ERROR(reader.Read(root, &config));
    return config;
  } catch (const YAML::ParserException& e) {
    return InvalidArgument(fmt::format("{}: line {}, column {}: invalid YAML: {}", file_path,
                                       e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: cannot read config: {}", file_path, e.what()));
  }
}

}  // namespace switchyard
