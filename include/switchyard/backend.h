/* switchyard backend plugin ABI.
 *
 * A backend is a shared library (a "plugin") that a switchyard worker process, or the server
 * itself for `isolation: thread`, loads with dlopen. It exports the eight functions declared at
 * the end of this file (and may export the optional ones); everything it needs from the host
 * comes through the SyHostApi table it is given at backend init. Three levels each have a state
 * slot the plugin fills: the backend (once per process), a model, an instance of a model. The
 * plugin links nothing of switchyard: this header alone is its build dependency (CMake target
 * switchyard::backend_api), so a plugin can be built on another machine against another framework
 * (e.g. a CUDA libtorch).
 *
 * Versioning. SY_BACKEND_API_VERSION changes whenever anything in this file changes
 * incompatibly. The host calls SyBackendApiVersion() first and refuses a plugin whose version
 * differs from its own, with a message naming both. Structs the host passes begin with
 * `struct_size` so later versions can append fields.
 *
 * Errors. A function that can fail returns an SyError*: NULL means success. Errors are created
 * only with host->error_new; returning one (or passing it to request_set_error) hands its
 * ownership to the host. C++ exceptions must never cross this boundary: a plugin catches
 * everything at its exported functions and returns an error instead. (The host also guards each
 * call and turns an exception that escapes into an error for the call, but that relies on the
 * plugin and the host sharing a C++ runtime: do not count on it.)
 *
 * Threading.
 *   - SyBackendInit / SyBackendFini are called once per process, first and last.
 *   - SyModelInit / SyModelFini are called once per loaded model, on one host thread.
 *   - SyInstanceInit / SyInstanceFini / SyInstanceExecute for one instance are called from one
 *     thread at a time (never concurrently for the same instance). Different instances of the
 *     same model may run concurrently on different threads (several instances share one process
 *     with `isolation: thread`), so model state must be safe to read concurrently after init.
 *   - The host API functions may be called from the thread running the plugin function that
 *     received the object they take (a batch: during SyInstanceExecute only).
 *
 * Lifetimes: every pointer the host passes (descriptors, strings, arrays, batches, tensor data)
 * is valid only until the plugin function that received it returns, unless stated otherwise.
 * Copy what you keep.
 *
 * Tensors use the KServe v2 binary layout: little-endian, row-major; a BYTES tensor holds its
 * elements one after another, each as a 4-byte little-endian length followed by its bytes.
 * Shapes include the batch dimension when the model batches (max_batch_size > 0).
 */
#ifndef SWITCHYARD_BACKEND_H_
#define SWITCHYARD_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_BACKEND_API_VERSION 1u

#if defined(__GNUC__)
#define SY_EXPORT __attribute__((visibility("default")))
#else
#define SY_EXPORT
#endif

/* The KServe v2 datatypes. Values are part of the ABI. */
typedef enum SyDataType {
  SY_TYPE_BOOL = 0,
  SY_TYPE_UINT8 = 1,
  SY_TYPE_UINT16 = 2,
  SY_TYPE_UINT32 = 3,
  SY_TYPE_UINT64 = 4,
  SY_TYPE_INT8 = 5,
  SY_TYPE_INT16 = 6,
  SY_TYPE_INT32 = 7,
  SY_TYPE_INT64 = 8,
  SY_TYPE_FP16 = 9,
  SY_TYPE_BF16 = 10,
  SY_TYPE_FP32 = 11,
  SY_TYPE_FP64 = 12,
  SY_TYPE_BYTES = 13
} SyDataType;

/* What kind of failure an error is; the host maps it to the client's status. */
typedef enum SyErrorCode {
  SY_ERROR_INVALID_ARGUMENT = 1, /* the request's inputs are unacceptable (HTTP 400) */
  SY_ERROR_INTERNAL = 2,         /* the backend failed (HTTP 500) */
  SY_ERROR_UNAVAILABLE = 3,      /* the backend cannot serve now (HTTP 503) */
  SY_ERROR_UNSUPPORTED = 4,      /* the model or config asks for something not supported */
  /* Only as SyInstanceExecute's return: the instance's device is unusable in this process (a
   * sticky CUDA error such as an illegal address: every later CUDA call of the process fails).
   * The host calls nothing of the instance any more, not even Fini (its state is leaked; the
   * teardown would touch the lost device); a worker process ends, the batch
   * is retried elsewhere, the instance's GPUs take no work until a new worker on them is ready,
   * and the message says why wherever the GPU's health is shown. Elsewhere it means INTERNAL. */
  SY_ERROR_DEVICE_LOST = 5
} SyErrorCode;

/* Whether the host still wants a request's answer (SyHostApi::request_cancelled). */
typedef enum SyCancelState {
  SY_NOT_CANCELLED = 0,
  SY_CANCELLED_CLIENT_GONE = 1, /* the client went away: the answer is not sent */
  SY_CANCELLED_DEADLINE = 2     /* the client's timeout passed: an error answers 504 */
} SyCancelState;

typedef enum SyLogLevel {
  SY_LOG_DEBUG = 0,
  SY_LOG_INFO = 1,
  SY_LOG_WARN = 2,
  SY_LOG_ERROR = 3
} SyLogLevel;

/* Opaque, host-owned. */
typedef struct SyError SyError;
typedef struct SyBatch SyBatch;

/* An input or output as the model's config.yaml declares it (without the batch dimension;
 * -1 marks a variable dimension). */
typedef struct SyTensorSpec {
  const char* name;
  SyDataType datatype;
  const int64_t* dims;
  uint32_t dim_count;
} SyTensorSpec;

/* One entry of the config's `parameters:` map; scalar values as text. */
typedef struct SyParameter {
  const char* key;
  const char* value;
} SyParameter;

typedef struct SyModelDesc {
  uint32_t struct_size;       /* sizeof(SyModelDesc) of the host */
  const char* name;           /* the model's name (its folder) */
  int64_t version;            /* the version being loaded */
  const char* model_dir;      /* absolute path of the model folder (holds config.yaml) */
  const char* version_dir;    /* absolute path of the version folder, e.g. .../resnet50/1 */
  int32_t max_batch_size;     /* 0: no batch dimension */
  const SyTensorSpec* inputs; /* in config order */
  uint32_t input_count;
  const SyTensorSpec* outputs; /* in config order; output indexes below refer to this order */
  uint32_t output_count;
  const SyParameter* parameters;
  uint32_t parameter_count;
  /* The config's `backend:` name ("exec", "python", ...): one plugin may serve several names
   * (the exec plugin serves `python` models too). Present when struct_size covers it (hosts
   * since 2026-12). */
  const char* backend;
  /* 1 when the model's instances run inside the server's own process (`isolation: thread`), 0
   * when each runs in a worker process of its own. A plugin may refuse, in the server's process,
   * what would end that process (e.g. fault injection). Present when struct_size covers it
   * (hosts since 2026-12-08). */
  int32_t in_server_process;
} SyModelDesc;

typedef struct SyInstanceDesc {
  uint32_t struct_size; /* sizeof(SyInstanceDesc) of the host */
  const char* name;     /* unique within the model, e.g. "resnet50/0" */
  int32_t index;        /* 0-based within the model */
  /* 0: a CPU instance. n > 0: the instance owns n GPUs, which it sees as CUDA devices 0..n-1
   * (in a worker process the host has set CUDA_VISIBLE_DEVICES to exactly those GPUs). */
  int32_t gpu_count;
  /* The CUDA_VISIBLE_DEVICES value that shows exactly the instance's GPUs (their UUIDs, comma
   * separated; "" for a CPU instance), in a worker process and in the server alike. A plugin that
   * starts programs of its own sets it in their environment, so that each lands on its
   * instance's GPUs. Present when struct_size covers it (hosts since 2026-12). */
  const char* cuda_visible_devices;
  /* The simulated GPU (`serve --simulate-gpus`) the instance is placed on, as "<fd>:<speed>": a
   * file descriptor of this process that holds the device's shared page (the host owns it) and
   * the device's relative speed (> 0). switchyard/backend_sdk/simulated_gpu.h maps the page and
   * occupies the device. An instance spanning several simulated GPUs is given its first one's.
   * NULL or "" for a CPU instance and on real GPUs. Present when struct_size covers it (hosts
   * since 2026-12-08). */
  const char* simulated_gpu;
} SyInstanceDesc;

/* What a plugin tells the host's placement planner about one instance of a model, from the
 * model's config alone (SyModelPlacementHints). The host fills in the defaults below before the
 * call; the plugin changes what it knows, and only fields that struct_size covers. */
typedef struct SyPlacementHints {
  uint32_t struct_size; /* sizeof(SyPlacementHints) of the host */
  /* 1: device_memory_mb is what one instance needs on each GPU it spans (0 MiB: it needs none).
   * 0 (default): unknown until an instance has loaded (with `vram_mb: measure`, the server then
   * loads one instance first and asks it, SyInstanceDeviceMemory). */
  int32_t device_memory_known;
  uint64_t device_memory_mb; /* MiB (2^20 bytes); default 0 */
  /* 1 (default): a second instance on one GPU can add throughput (it overlaps its copies or host
   * work with the other's compute), so `per_device: auto` places two where memory allows. 0: the
   * device runs one batch at a time however many instances it holds (e.g. a simulated GPU). */
  int32_t overlaps_on_device;
} SyPlacementHints;

/* A view of one input tensor of one request. */
typedef struct SyTensor {
  const char* name;
  SyDataType datatype;
  const int64_t* shape;
  uint32_t dim_count;
  const void* data;
  uint64_t byte_size;
} SyTensor;

/* One output of a partial response (SyHostApi::request_send_partial). */
typedef struct SyOutput {
  uint32_t output; /* its config position */
  const int64_t* shape;
  uint32_t dim_count;
  const void* data;
  uint64_t byte_size;
} SyOutput;

/* The most output bytes one partial response may carry, all its outputs together. */
#define SY_MAX_PARTIAL_RESPONSE_BYTES 65536u

/* The host's functions, given to the plugin at SyBackendInit. The table stays valid until
 * SyBackendFini has returned; the plugin may keep the pointer. */
typedef struct SyHostApi {
  uint32_t struct_size; /* sizeof(SyHostApi) of the host */
  uint32_t api_version; /* SY_BACKEND_API_VERSION of the host */

  /* A new error. Never returns NULL. `message` is copied. */
  SyError* (*error_new)(SyErrorCode code, const char* message);
  /* Writes a line to the host's log (a worker's log names its instance). Any thread. */
  void (*log)(SyLogLevel level, const char* message);

  /* The number of requests in the batch (>= 1). */
  uint32_t (*batch_request_count)(const SyBatch* batch);
  /* Request `request`'s input at config position `input` (every config input is present).
   * Fills `out`; its pointers stay valid until SyInstanceExecute returns. */
  SyError* (*request_input)(const SyBatch* batch, uint32_t request, uint32_t input, SyTensor* out);
  /* Whether the client asked for output `output` (config position) of `request`. A plugin may
   * skip outputs that were not asked for; it may also produce them (the host drops them). */
  int (*request_output_requested)(const SyBatch* batch, uint32_t request, uint32_t output);
  /* Allocates output `output` (config position) of `request` with the given shape and byte size
   * and returns where to write it in `*data` (host memory; in a worker process it is the shared
   * memory the server reads the output from: write the result there). The plugin must fill
   * all `byte_size` bytes before SyInstanceExecute returns. Allocating one output twice is an
   * error. Fails with SY_ERROR_INTERNAL when the host cannot provide the memory. */
  SyError* (*request_output_alloc)(SyBatch* batch, uint32_t request, uint32_t output,
                                   const int64_t* shape, uint32_t dim_count, uint64_t byte_size,
                                   void** data);
  /* Fails one request of the batch with `error` (ownership passes to the host); its outputs, if
   * any were allocated, are dropped. The other requests are answered normally. */
  void (*request_set_error)(SyBatch* batch, uint32_t request, SyError* error);

  /* Present when struct_size covers them (hosts since 2026-12): */
  /* The number of the client's parameters of `request` (a KServe request's `parameters` other
   * than those the server reads, or the query parameters of POST .../predict); 0 for an index
   * out of range. */
  uint32_t (*request_parameter_count)(const SyBatch* batch, uint32_t request);
  /* Parameter `index` of `request`: its name and value (a JSON string's contents, or the JSON
   * text of another value), NUL-terminated, valid until SyInstanceExecute returns. */
  SyError* (*request_parameter)(const SyBatch* batch, uint32_t request, uint32_t index,
                                const char** key, const char** value);
  /* Whether `request` is still wanted (SyCancelState): once its client went away or its
   * timeout passed, a plugin may stop working on it and fail it (any error; the host answers
   * a cancelled request with nothing and one past its timeout with 504), or finish it anyway.
   * The state only moves away from SY_NOT_CANCELLED. Cheap (a memory read), and callable from
   * any thread while SyInstanceExecute runs; SY_NOT_CANCELLED for an index out of range.
   * Present when struct_size covers it (hosts since 2026-12-07). */
  int (*request_cancelled)(const SyBatch* batch, uint32_t request);
  /* Reports how far `request` has come: `fraction` from 0 to 1 (clamped; NaN is ignored) and a
   * short message (NULL or "" for none; UTF-8, cut at 1 KiB; copied). Whoever follows the
   * request (a job's status and events, a streaming client) sees the latest report. Reports
   * closer together than 50 ms may be dropped, except one with fraction 1. Callable from any
   * thread while SyInstanceExecute runs; ignored for an index out of range. Optional for a
   * plugin: a request without reports simply has none. Present when struct_size covers it
   * (hosts since 2026-12-08). */
  void (*request_progress)(const SyBatch* batch, uint32_t request, double fraction,
                           const char* message);
  /* Sends a response for `request` ahead of its final one (a partial result: a page parsed, a
   * stage's preview, a token), made of `outputs` (config positions, each at most once, shapes
   * and sizes as for request_output_alloc, at most SY_MAX_PARTIAL_RESPONSE_BYTES in all). The
   * host copies them before it returns. The final response is the one SyInstanceExecute leaves,
   * as always; a request may send any number of partial ones before it. Whoever follows the
   * request sees them in the order sent, all before the final one: a streaming /predict client
   * as `event: partial`, a gRPC stream as responses of their own. A client that takes a single
   * response (plain /infer or /predict, a job's result) gets only the final one: the host drops
   * the partial ones without copying them. A request that sent one is not run again if its
   * instance is lost (its client has seen part of its answer): it fails instead. Errors:
   * INVALID_ARGUMENT for an output out of range or given twice, a size that does not fit its
   * shape, or too many bytes (nothing is sent; the request goes on); INTERNAL when the host could
   * not pass it on. Callable from any thread while SyInstanceExecute runs. Present when
   * struct_size covers it. */
  SyError* (*request_send_partial)(SyBatch* batch, uint32_t request, const SyOutput* outputs,
                                   uint32_t output_count);
} SyHostApi;

/* ---- Exported by every plugin. ---- */

/* The SY_BACKEND_API_VERSION the plugin was built against. */
SY_EXPORT uint32_t SyBackendApiVersion(void);

/* Initialises the plugin once per process, before any model. `host` stays valid until
 * SyBackendFini returns. Stores the plugin's backend state (may be NULL) in `*backend_state`.
 * On failure nothing is to be finalised. */
SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state);

/* Releases the backend after every model was finalised. */
SY_EXPORT void SyBackendFini(void* backend_state);

/* Loads a model. On success stores the plugin's model state (may be NULL) in `*model_state`.
 * On failure nothing is to be finalised. */
SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state);

/* Releases a model after all of its instances were finalised. */
SY_EXPORT void SyModelFini(void* model_state);

/* Creates an instance of a loaded model (loads weights onto its device, etc.). */
SY_EXPORT SyError* SyInstanceInit(void* model_state, const SyInstanceDesc* desc,
                                  void** instance_state);

/* Releases an instance; no Execute is running or will run on it. */
SY_EXPORT void SyInstanceFini(void* instance_state);

/* Executes one batch: for each request, either allocate and fill its outputs with
 * request_output_alloc, or fail it with request_set_error. Returning an error fails every
 * request of the batch that was not already failed. Synchronous: when it returns, the outputs
 * are complete. */
SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch);

/* ---- Optional exports (looked up with dlsym; absent is fine). ---- */

/* Device memory the instance holds now, in bytes (for `vram_mb: measure`). */
SY_EXPORT SyError* SyInstanceDeviceMemory(void* instance_state, uint64_t* bytes);

/* The host has mapped [base, base + size): the request inputs of this instance's later batches
 * will lie there (a worker process's shared-memory slot), until SyInstanceHostMemoryUnmapping
 * names the same base. A plugin that copies inputs to a device may page-lock the range here
 * (e.g. cudaHostRegister) so that those copies run as direct DMA. Called on the thread that
 * calls SyInstanceExecute, never during one. An error is logged and otherwise ignored: the
 * memory must still work as ordinary host memory. Inputs may also lie outside every range
 * given here (in-process instances never get one). */
SY_EXPORT SyError* SyInstanceHostMemoryMapped(void* instance_state, void* base, uint64_t size);

/* The range SyInstanceHostMemoryMapped gave at `base` is about to be unmapped: undo what was
 * done to it and keep no pointer into it. Same thread rule. */
SY_EXPORT void SyInstanceHostMemoryUnmapping(void* instance_state, void* base);

/* How many SyInstanceExecute calls of this instance, each with its own batch, the host may run
 * at once (on different threads); asked once after SyInstanceInit; absent or 0 means 1. An
 * instance that says more takes its next batch while it still works on the one before (e.g.
 * to receive it while its device computes the last), and must be safe for those concurrent
 * calls; its batches may finish in any order. For such an instance the rule "never
 * concurrently" above is lifted for SyInstanceExecute only, and SyInstanceHostMemoryMapped /
 * Unmapping may then run during an Execute of another batch (never for memory that batch
 * uses). Hosts since 2026-12-07 ask; older ones run one Execute at a time. */
SY_EXPORT uint32_t SyInstanceConcurrency(void* instance_state);

/* Describes one instance of the model `desc` to the placement planner (SyPlacementHints): its
 * device memory and whether a second instance on one GPU adds throughput. A pure function of
 * `desc`: called without SyBackendInit or SyModelInit (the host may load the plugin only for
 * this), from any thread, possibly several times and concurrently, in the server's process
 * (`switchyard serve`, `plan`, `devices`), before any instance of the model is made. `desc` is
 * as for SyModelInit, except that version is 0 and model_dir and version_dir are "": only the
 * config counts. `host` serves error_new and log (no batch exists). An error means the config is
 * invalid: the host refuses the model with the error's message, as it would a failed
 * SyModelInit, before anything is loaded. Absent (or a plugin that cannot be loaded): the need
 * is unknown and a second instance overlaps. Hosts since 2026-12-08 ask. */
SY_EXPORT SyError* SyModelPlacementHints(const SyHostApi* host, const SyModelDesc* desc,
                                         SyPlacementHints* hints);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHYARD_BACKEND_H_ */
