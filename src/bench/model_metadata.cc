#include "bench/model_metadata.h"

#include "fmt/format.h"
#include "simdjson.h"

namespace switchyard::bench {
namespace {

Status Malformed(std::string_view what) {
  return InvalidArgument(fmt::format("model metadata: {}", what));
}

StatusOr<std::vector<TensorMetadata>> ParseTensors(simdjson::dom::object root,
                                                   std::string_view key) {
  simdjson::dom::array array;
  if (root[key].get_array().get(array) != simdjson::SUCCESS) {
    return Malformed(fmt::format("'{}' is missing or not an array", key));
  }
  std::vector<TensorMetadata> tensors;
  for (simdjson::dom::element element : array) {
    std::string_view name;
    std::string_view datatype;
    simdjson::dom::array shape;
    if (element["name"].get_string().get(name) != simdjson::SUCCESS ||
        element["datatype"].get_string().get(datatype) != simdjson::SUCCESS ||
        element["shape"].get_array().get(shape) != simdjson::SUCCESS) {
      return Malformed(fmt::format("an entry of '{}' lacks name, datatype or shape", key));
    }
    std::optional<DataType> type = ParseDataType(datatype);
    if (!type) {
      return Malformed(fmt::format("{} '{}' has unknown datatype '{}'", key, name, datatype));
    }
    TensorMetadata tensor{std::string(name), *type, {}};
    for (simdjson::dom::element dim : shape) {
      int64_t value = 0;
      if (dim.get_int64().get(value) != simdjson::SUCCESS || value < -1) {
        return Malformed(fmt::format("{} '{}' has a bad shape", key, name));
      }
      tensor.shape.push_back(value);
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

// Fills the -1 dims of `dims` from `override`, which has the same rank.
Status ApplyOverride(const std::string& input, const Shape& override, Shape& dims) {
  if (override.size() != dims.size()) {
    return InvalidArgument(
        fmt::format("--shape {}: expected {} dims (without the batch dim) "
                    "to fit {}, got {}",
                    input, dims.size(), ShapeToString(dims), override.size()));
  }
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] != -1 && dims[i] != override[i]) {
      return InvalidArgument(fmt::format("--shape {}:{} does not fit the model's shape {}", input,
                                         fmt::join(override, ","), ShapeToString(dims)));
    }
    dims[i] = override[i];
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ModelMetadata> ParseModelMetadata(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object root;
  if (parser.parse(padded).get_object().get(root) != simdjson::SUCCESS) {
    return Malformed("not a JSON object");
  }
  std::string_view name;
  if (root["name"].get_string().get(name) != simdjson::SUCCESS) return Malformed("no 'name'");
  ModelMetadata metadata{std::string(name), {}, {}};
  ASSIGN_OR_RETURN(metadata.inputs, ParseTensors(root, "inputs"));
  ASSIGN_OR_RETURN(metadata.outputs, ParseTensors(root, "outputs"));
  if (metadata.inputs.empty()) return Malformed("the model has no inputs");
  return metadata;
}

StatusOr<int64_t> ParseMaxBatchSize(std::string_view config_json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(config_json);
  int64_t value = 0;
  if (parser.parse(padded)["max_batch_size"].get_int64().get(value) != simdjson::SUCCESS ||
      value < 0) {
    return InvalidArgument("model config: 'max_batch_size' is missing or negative");
  }
  return value;
}

bool LooksBatched(const ModelMetadata& metadata) {
  for (const TensorMetadata& input : metadata.inputs) {
    if (input.shape.empty() || input.shape[0] != -1) return false;
  }
  return true;
}

StatusOr<InputPlan> ResolveInputs(const ModelMetadata& metadata, bool batched, int64_t batch_size,
                                  const std::map<std::string, Shape>& shapes, BodyFormat format) {
  if (!batched && batch_size != 1) {
    return InvalidArgument(
        fmt::format("model '{}' does not batch: --batch-size must be 1", metadata.name));
  }
  for (const auto& [name, dims] : shapes) {
    bool known = false;
    for (const TensorMetadata& input : metadata.inputs) known = known || input.name == name;
    if (!known) {
      return InvalidArgument(
          fmt::format("--shape names '{}', not an input of '{}'", name, metadata.name));
    }
  }
  InputPlan plan;
  plan.items_per_request = batched ? batch_size : 1;
  for (const TensorMetadata& input : metadata.inputs) {
    if (format == BodyFormat::kJson && !IsJsonRepresentable(input.datatype)) {
      return InvalidArgument(
          fmt::format("input '{}' is {}, which cannot travel as JSON: use "
                      "--format binary",
                      input.name, DataTypeName(input.datatype)));
    }
    Shape dims = input.shape;
    if (batched) {
      if (dims.empty() || dims[0] != -1) {
        return InvalidArgument(
            fmt::format("input '{}' of a batching model has shape {} without "
                        "a leading -1 batch dimension",
                        input.name, ShapeToString(input.shape)));
      }
      dims.erase(dims.begin());
    }
    if (auto it = shapes.find(input.name); it != shapes.end()) {
      RETURN_IF_ERROR(ApplyOverride(input.name, it->second, dims));
    }
    for (int64_t dim : dims) {
      if (dim < 0) {
        return InvalidArgument(
            fmt::format("input '{}' has variable dims {}: give its shape with "
                        "--shape {}:d1,d2,... (without the batch dim)",
                        input.name, ShapeToString(dims), input.name));
      }
    }
    if (batched) dims.insert(dims.begin(), batch_size);
    plan.inputs.push_back({input.name, input.datatype, std::move(dims)});
  }
  return plan;
}

}  // namespace switchyard::bench
