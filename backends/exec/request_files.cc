#include "exec/request_files.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "switchyard/backend_sdk/datatype.h"
#include "switchyard/backend_sdk/json.h"

namespace switchyard::exec {
namespace {

constexpr size_t kMaxResponseJsonBytes = 1 << 20;

std::string ShapeJson(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

sdk::Status WriteFile(const std::string& path, std::span<const uint8_t> data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return sdk::Internal("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return sdk::Internal("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return sdk::Internal("cannot write " + path + ": " + std::strerror(errno));
  return sdk::Status();
}

// The whole file (at most `max_bytes`); NotFound-like InvalidArgument when missing.
sdk::Status ReadFile(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return sdk::Internal(errno == ENOENT ? "the program did not write " + path
                                         : "cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return sdk::Internal(path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    close(fd);
    return sdk::Internal(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return sdk::Internal("cannot read " + path);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return sdk::Status();
}

sdk::Status JsonError(const std::string& what) { return sdk::Internal("response.json: " + what); }

}  // namespace

std::string InputFileName(size_t input_index) {
  return "input" + std::to_string(input_index) + ".bin";
}

std::string OutputFileName(size_t output_index) {
  return "output" + std::to_string(output_index) + ".bin";
}

std::string RequestJson(const ModelSpec& model, const RequestView& request,
                        const std::vector<bool>& wanted) {
  std::string j = "{\"protocol\": 1, \"model\": " + sdk::JsonQuote(model.name) +
                  ", \"model_version\": " + std::to_string(model.version) +
                  ", \"max_batch_size\": " + std::to_string(model.max_batch_size) +
                  ",\n \"inputs\": [";
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const InputView& in = request.inputs[i];
    j += i == 0 ? "\n  " : ",\n  ";
    j += "{\"name\": " + sdk::JsonQuote(in.name) + ", \"datatype\": \"" +
         std::string(sdk::DataTypeName(in.datatype)) + "\", \"shape\": " + ShapeJson(in.shape) +
         ", \"file\": \"" + InputFileName(i) + "\"}";
  }
  j += "],\n \"outputs\": [";
  bool first = true;
  for (size_t o = 0; o < model.outputs.size(); ++o) {
    if (!wanted[o]) continue;
    j += first ? "\n  " : ",\n  ";
    first = false;
    j += "{\"name\": " + sdk::JsonQuote(model.outputs[o].name) + ", \"datatype\": \"" +
         std::string(sdk::DataTypeName(model.outputs[o].datatype)) + "\", \"file\": \"" +
         OutputFileName(o) + "\"}";
  }
  j += "],\n \"parameters\": {";
  for (size_t p = 0; p < request.parameters.size(); ++p) {
    j += (p == 0 ? "" : ", ") + sdk::JsonQuote(request.parameters[p].first) + ": " +
         sdk::JsonQuote(request.parameters[p].second);
  }
  j += "}}\n";
  return j;
}

sdk::StatusOr<ParsedResponse> ParseResponseJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    return JsonError(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root)) return JsonError("expected a JSON object");
  ParsedResponse r;
  bool has_outputs = false;
  bool has_error = false;
  std::optional<SyErrorCode> code;
  for (auto field : root) {
    std::string_view key = field.key;
    if (key == "error") {
      std::string_view msg;
      if (field.value.get_string().get(msg)) return JsonError("\"error\" must be a string");
      r.failed = true;
      has_error = true;
      r.error = sdk::Status(SY_ERROR_INTERNAL, std::string(msg));
    } else if (key == "code") {
      std::string_view c;
      if (field.value.get_string().get(c)) return JsonError("\"code\" must be a string");
      if (c == "INVALID_ARGUMENT") {
        code = SY_ERROR_INVALID_ARGUMENT;
      } else if (c == "INTERNAL") {
        code = SY_ERROR_INTERNAL;
      } else if (c == "UNAVAILABLE") {
        code = SY_ERROR_UNAVAILABLE;
      } else if (c == "UNSUPPORTED") {
        code = SY_ERROR_UNSUPPORTED;
      } else {
        return JsonError("unknown \"code\" '" + std::string(c) +
                         "' (expected INVALID_ARGUMENT, INTERNAL, UNAVAILABLE or UNSUPPORTED)");
      }
    } else if (key == "outputs") {
      has_outputs = true;
      simdjson::dom::array outputs;
      if (field.value.get_array().get(outputs)) return JsonError("\"outputs\" must be a list");
      for (simdjson::dom::element e : outputs) {
        simdjson::dom::object o;
        if (e.get_object().get(o)) return JsonError("each of \"outputs\" must be an object");
        ResponseOutput out;
        bool has_name = false;
        bool has_shape = false;
        for (auto f : o) {
          std::string_view k = f.key;
          if (k == "name") {
            std::string_view name;
            if (f.value.get_string().get(name))
              return JsonError("output \"name\" must be a string");
            out.name = std::string(name);
            has_name = true;
          } else if (k == "datatype") {
            std::string_view dt;
            if (f.value.get_string().get(dt)) {
              return JsonError("output \"datatype\" must be a string");
            }
            out.datatype = std::string(dt);
          } else if (k == "shape") {
            simdjson::dom::array dims;
            if (f.value.get_array().get(dims)) {
              return JsonError("output \"shape\" must be a list of integers");
            }
            for (simdjson::dom::element d : dims) {
              int64_t v = 0;
              if (d.get_int64().get(v)) {
                return JsonError("output \"shape\" must be a list of integers");
              }
              out.shape.push_back(v);
            }
            has_shape = true;
          } else {
            return JsonError("unknown key '" + std::string(k) +
                             "' in an output (expected name, shape, datatype)");
          }
        }
        if (!has_name || !has_shape) return JsonError("each output needs \"name\" and \"shape\"");
        r.outputs.push_back(std::move(out));
      }
    } else {
      return JsonError("unknown key '" + std::string(key) +
                       "' (expected outputs, or error and code)");
    }
  }
  if (has_error == has_outputs) {
    return JsonError("expected either \"outputs\" or \"error\"");
  }
  if (code.has_value()) {
    if (!has_error) return JsonError("\"code\" goes with \"error\"");
    r.error = sdk::Status(*code, r.error.message());
  }
  return r;
}

sdk::Status WriteRequestFiles(const std::string& dir, const ModelSpec& model,
                              const RequestView& request, const std::vector<bool>& wanted) {
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    SY_RETURN_IF_ERROR(WriteFile(dir + "/" + InputFileName(i), request.inputs[i].data));
  }
  std::string json = RequestJson(model, request, wanted);
  return WriteFile(
      dir + "/" + std::string(kRequestJson),
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
}

sdk::StatusOr<std::unique_ptr<FileOutputs>> ReadResponseFiles(const std::string& dir,
                                                              const ModelSpec& model) {
  std::vector<uint8_t> json;
  SY_RETURN_IF_ERROR(
      ReadFile(dir + "/" + std::string(kResponseJson), kMaxResponseJsonBytes, &json));
  auto parsed =
      ParseResponseJson(std::string_view(reinterpret_cast<const char*>(json.data()), json.size()));
  if (!parsed.ok()) return parsed.status();
  auto files = std::make_unique<FileOutputs>();
  files->response = std::move(parsed).value();
  if (files->response.failed) return files;
  for (const ResponseOutput& out : files->response.outputs) {
    size_t index = model.outputs.size();
    for (size_t o = 0; o < model.outputs.size(); ++o) {
      if (model.outputs[o].name == out.name) index = o;
    }
    if (index == model.outputs.size()) {
      return sdk::Internal("response.json lists output '" + out.name +
                           "', which the config does not declare");
    }
    files->data.emplace_back();
    SY_RETURN_IF_ERROR(
        ReadFile(dir + "/" + OutputFileName(index), UINT64_MAX >> 1, &files->data.back()));
  }
  for (size_t k = 0; k < files->response.outputs.size(); ++k) {
    const ResponseOutput& out = files->response.outputs[k];
    OutputTensor t;
    t.name = out.name;
    t.shape = out.shape;
    t.data = files->data[k];
    if (out.datatype.has_value()) {
      t.datatype = *out.datatype;
    } else {
      for (const TensorInfo& spec : model.outputs) {
        if (spec.name == out.name) t.datatype = sdk::DataTypeName(spec.datatype);
      }
    }
    files->outputs.push_back(std::move(t));
  }
  return files;
}

sdk::StatusOr<std::unique_ptr<TempDir>> TempDir::Create() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && base[0] == '/' ? base : "/tmp") + "/switchyard-exec-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return sdk::Internal("cannot create a temporary folder " + tmpl + ": " + std::strerror(errno));
  }
  return std::unique_ptr<TempDir>(new TempDir(std::move(tmpl)));
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace switchyard::exec
