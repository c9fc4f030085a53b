#include "exec/frame_protocol.h"

#include <bit>
#include <cstdio>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::exec {
namespace {

void PutSpec(ByteWriter w, const TensorInfo& t) {
  w.Str(t.name);
  w.Str(sdk::DataTypeName(t.datatype));
  w.U32(static_cast<uint32_t>(t.dims.size()));
  for (int64_t d : t.dims) w.I64(d);
}

sdk::Status DecodeTensor(ByteReader& r, OutputTensor* t) {
  SY_RETURN_IF_ERROR(r.Str(&t->name, "a tensor name"));
  SY_RETURN_IF_ERROR(r.Str(&t->datatype, "a tensor datatype"));
  uint32_t ndim = 0;
  SY_RETURN_IF_ERROR(r.U32(&ndim, "a tensor's dimension count"));
  if (ndim > r.remaining() / 8) {
    return sdk::InvalidArgument("tensor '" + std::string(t->name) + "' claims " +
                                std::to_string(ndim) + " dimensions, more than the frame holds");
  }
  t->shape.resize(ndim);
  for (uint32_t i = 0; i < ndim; ++i) SY_RETURN_IF_ERROR(r.I64(&t->shape[i], "a dimension"));
  uint64_t size = 0;
  SY_RETURN_IF_ERROR(r.U64(&size, "a tensor's byte size"));
  return r.Bytes(size, &t->data, "tensor data");
}

// A u32 count, then that many tensors; `what` names their owner in errors.
sdk::Status DecodeOutputs(ByteReader& r, const std::string& what, std::vector<OutputTensor>* out) {
  uint32_t n = 0;
  SY_RETURN_IF_ERROR(r.U32(&n, "an output count"));
  if (n > r.remaining() / 24) {  // a tensor takes at least 24 bytes
    return sdk::InvalidArgument(what + " claims " + std::to_string(n) +
                                " outputs, more than the frame holds");
  }
  out->resize(n);
  for (uint32_t j = 0; j < n; ++j) SY_RETURN_IF_ERROR(DecodeTensor(r, &(*out)[j]));
  return sdk::Status();
}

}  // namespace

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kHello:
      return "HELLO";
    case FrameKind::kReady:
      return "READY";
    case FrameKind::kBatch:
      return "BATCH";
    case FrameKind::kResult:
      return "RESULT";
    case FrameKind::kCancel:
      return "CANCEL";
    case FrameKind::kProgress:
      return "PROGRESS";
    case FrameKind::kPartial:
      return "PARTIAL";
  }
  return "?";
}

OutgoingFrame EncodeHello(const ModelSpec& model, const InstanceSpec& instance,
                          const ExecParameters& params) {
  OutgoingFrame f(static_cast<uint8_t>(FrameKind::kHello));
  ByteWriter w = f.writer();
  w.Bytes(kMagic.data(), kMagic.size());
  w.U32(kProtocolVersion);
  w.Str(model.name);
  w.I64(model.version);
  w.U32(static_cast<uint32_t>(model.max_batch_size < 0 ? 0 : model.max_batch_size));
  w.U32(static_cast<uint32_t>(model.inputs.size()));
  for (const TensorInfo& t : model.inputs) PutSpec(w, t);
  w.U32(static_cast<uint32_t>(model.outputs.size()));
  for (const TensorInfo& t : model.outputs) PutSpec(w, t);
  w.U32(static_cast<uint32_t>(params.program_parameters.size()));
  for (const auto& [key, value] : params.program_parameters) {
    w.Str(key);
    w.Str(value);
  }
  w.I32(instance.index);
  w.U32(static_cast<uint32_t>(instance.gpu_count < 0 ? 0 : instance.gpu_count));
  w.Str(instance.cuda_visible_devices.value_or(""));
  w.Str(model.model_dir);
  w.Str(model.version_dir);
  (void)f.Finish();  // a HELLO is small
  return f;
}

OutgoingFrame EncodeCancel(uint64_t batch_id, uint32_t request, SyCancelState state) {
  OutgoingFrame f(static_cast<uint8_t>(FrameKind::kCancel));
  ByteWriter w = f.writer();
  w.U64(batch_id);
  w.U32(request);
  w.U8(static_cast<uint8_t>(state));
  (void)f.Finish();  // 18 bytes
  return f;
}

// Whether every input of `requests` fits `lane` (each aligned as Append places it).
bool AllFit(std::span<const RequestView> requests, const SharedLane& lane) {
  uint64_t total = 0;
  for (const RequestView& req : requests) {
    for (const InputView& in : req.inputs) {
      total += (in.data.size() + SharedLane::kAlignment - 1) / SharedLane::kAlignment *
               SharedLane::kAlignment;
    }
  }
  return total <= lane.size();
}

sdk::StatusOr<OutgoingFrame> EncodeBatch(uint64_t batch_id, std::span<const RequestView> requests,
                                         bool with_parameters, SharedLane* shared) {
  if (shared != nullptr && !AllFit(requests, *shared)) shared = nullptr;
  OutgoingFrame f(static_cast<uint8_t>(FrameKind::kBatch));
  f.writer().U64(batch_id);
  f.writer().U32(static_cast<uint32_t>(requests.size()));
  for (const RequestView& req : requests) {
    ByteWriter w = f.writer();
    w.U32(static_cast<uint32_t>(req.inputs.size()));
    for (const InputView& in : req.inputs) {
      w.Str(in.name);
      w.Str(sdk::DataTypeName(in.datatype));
      w.U32(static_cast<uint32_t>(in.shape.size()));
      for (int64_t d : in.shape) w.I64(d);
      if (shared != nullptr) {
        w.U64(in.data.size() | kSharedTensorBit);
        w.U64(static_cast<uint64_t>(shared->Append(in.data)));  // fits: AllFit
        continue;
      }
      w.U64(in.data.size());
      f.AppendBorrowed(in.data);
    }
    ByteWriter w2 = f.writer();
    w2.U32(static_cast<uint32_t>(req.wanted_outputs.size()));
    for (std::string_view name : req.wanted_outputs) w2.Str(name);
    if (with_parameters) {
      w2.U32(static_cast<uint32_t>(req.parameters.size()));
      for (const auto& [key, value] : req.parameters) {
        w2.Str(key);
        w2.Str(value);
      }
    }
  }
  SY_RETURN_IF_ERROR(f.Finish());
  return f;
}

sdk::StatusOr<uint32_t> CheckFrameHeader(std::span<const uint8_t> header, FrameKind expected,
                                         uint32_t max_size, bool interim_too) {
  if (header.size() < kFrameHeaderSize) return sdk::Internal("frame header incomplete");
  uint32_t size = static_cast<uint32_t>(header[0]) | static_cast<uint32_t>(header[1]) << 8 |
                  static_cast<uint32_t>(header[2]) << 16 | static_cast<uint32_t>(header[3]) << 24;
  uint8_t kind = header[4];
  if (interim_too && IsInterimFrame(kind)) {
    const bool progress = kind == static_cast<uint8_t>(FrameKind::kProgress);
    const uint32_t most = progress ? kMaxProgressBytes : kMaxPartialBytes;
    if (size == 0 || size > most) {
      return sdk::Internal("the program's " + std::string(progress ? "PROGRESS" : "PARTIAL") +
                           " frame has size " + std::to_string(size) + " (at most " +
                           std::to_string(most) + ")");
    }
    return size;
  }
  if (kind != static_cast<uint8_t>(expected) || size == 0 || size > max_size) {
    return sdk::Internal("expected a " + std::string(FrameKindName(expected)) +
                         " frame on the program's stdout but read bytes that are not one (" +
                         (kind != static_cast<uint8_t>(expected) ? "kind " + std::to_string(kind)
                                                                 : "size " + std::to_string(size)) +
                         "): \"" + PreviewBytes(header) +
                         "...\"; the program must write nothing but protocol frames to stdout "
                         "(log to stderr)");
  }
  return size;
}

sdk::StatusOr<uint32_t> DecodeReady(std::span<const uint8_t> body) {
  ByteReader r(body);
  std::span<const uint8_t> magic;
  uint32_t version = 0;
  if (!r.Bytes(kMagic.size(), &magic, "magic").ok() ||
      std::string_view(reinterpret_cast<const char*>(magic.data()), magic.size()) != kMagic ||
      !r.U32(&version, "version").ok()) {
    return sdk::Internal(
        "the program's READY frame does not start with \"SYEX\" and a version: \"" +
        PreviewBytes(body) + "\"");
  }
  if (version != kProtocolVersion) {
    return sdk::Internal("the program speaks exec protocol version " + std::to_string(version) +
                         "; this plugin speaks version " + std::to_string(kProtocolVersion));
  }
  uint32_t features = 0;
  if (r.remaining() == 4) (void)r.U32(&features, "features");
  if (r.remaining() != 0) {
    return sdk::Internal("the program's READY frame has " + std::to_string(r.remaining()) +
                         " unexpected trailing bytes");
  }
  if ((features & ~(kFeatureRequestParameters | kFeatureCancel | kFeatureSharedInputs |
                    kFeaturePipelined)) != 0) {
    return sdk::Internal("the program's READY frame announces unknown features " +
                         std::to_string(features));
  }
  return features;
}

sdk::StatusOr<ProgressReport> DecodeProgress(std::span<const uint8_t> body) {
  ByteReader r(body);
  ProgressReport report;
  uint64_t bits = 0;
  SY_RETURN_IF_ERROR(r.U64(&report.batch_id, "the batch id"));
  SY_RETURN_IF_ERROR(r.U32(&report.request, "the request index"));
  SY_RETURN_IF_ERROR(r.U64(&bits, "the fraction"));
  SY_RETURN_IF_ERROR(r.Str(&report.message, "the message"));
  report.fraction = std::bit_cast<double>(bits);
  if (!(report.fraction >= 0 && report.fraction <= 1)) {  // NaN fails both
    return sdk::InvalidArgument("PROGRESS fraction " + std::to_string(report.fraction) +
                                " is outside 0 to 1");
  }
  if (r.remaining() != 0) {
    return sdk::InvalidArgument("PROGRESS frame has " + std::to_string(r.remaining()) +
                                " bytes after its message");
  }
  return report;
}

sdk::StatusOr<PartialReport> DecodePartial(std::span<const uint8_t> body) {
  ByteReader r(body);
  PartialReport report;
  SY_RETURN_IF_ERROR(r.U64(&report.batch_id, "the batch id"));
  SY_RETURN_IF_ERROR(r.U32(&report.request, "the request index"));
  SY_RETURN_IF_ERROR(DecodeOutputs(r, "PARTIAL", &report.outputs));
  if (r.remaining() != 0) {
    return sdk::InvalidArgument("PARTIAL frame has " + std::to_string(r.remaining()) +
                                " bytes after its last output");
  }
  return report;
}

sdk::StatusOr<BatchResult> DecodeResult(std::span<const uint8_t> body) {
  ByteReader r(body);
  BatchResult result;
  uint32_t count = 0;
  SY_RETURN_IF_ERROR(r.U64(&result.batch_id, "the batch id"));
  SY_RETURN_IF_ERROR(r.U32(&count, "the request count"));
  if (count > r.remaining()) {
    return sdk::InvalidArgument("RESULT claims " + std::to_string(count) +
                                " requests, more than the frame holds");
  }
  result.requests.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    RequestResult& req = result.requests[i];
    uint8_t status = 0;
    SY_RETURN_IF_ERROR(r.U8(&status, "a request status"));
    if (status == 0) {
      SY_RETURN_IF_ERROR(DecodeOutputs(r, "request " + std::to_string(i), &req.outputs));
    } else {
      req.ok = false;
      req.code =
          status <= SY_ERROR_UNSUPPORTED ? static_cast<SyErrorCode>(status) : SY_ERROR_INTERNAL;
      SY_RETURN_IF_ERROR(r.Str(&req.error, "an error message"));
    }
  }
  if (r.remaining() == 1) {  // the optional flags byte
    uint8_t flags = 0;
    SY_RETURN_IF_ERROR(r.U8(&flags, "the flags"));
    if ((flags & ~kResultFlagProgramEnds) != 0) {
      return sdk::InvalidArgument("RESULT flags " + std::to_string(flags) + " name unknown bits");
    }
    result.program_ends = (flags & kResultFlagProgramEnds) != 0;
  }
  if (r.remaining() != 0) {
    return sdk::InvalidArgument("RESULT frame has " + std::to_string(r.remaining()) +
                                " bytes after its last request");
  }
  return result;
}

std::string PreviewBytes(std::span<const uint8_t> data, size_t max) {
  std::string out;
  for (size_t i = 0; i < data.size() && i < max; ++i) {
    uint8_t c = data[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace switchyard::exec
