#pragma once
// POST /v2/models/{m}[/versions/{v}]/predict: plain HTTP in, plain HTTP out, over the same
// queue, batching and limits as /infer. Pure functions, no I/O, no exceptions; unit-tested and
// fuzzed (tests/fuzz/fuzz_predict.cc).
//
// Requests:
//  - An HTTP envelope model (ModelConfig::http_envelope, a python model without declared
//    inputs) gets the request as it came: the body (a multipart/form-data body as its parts),
//    its content type and the query parameters, packed into its `request` input
//    (core/http_envelope.h).
//  - A model with declared inputs gets one input per field:
//    * multipart/form-data: each part is the input of its field name; a BYTES input takes the
//      part's bytes as one element, any other input takes the part's text as a JSON value; a
//      text field that names no input is a request parameter, a file that names none an error;
//    * application/json (or +json): an object whose keys name inputs, each value a JSON number,
//      boolean, string or (nested) array; a key that names no input is a request parameter
//      (a string's contents, another value's JSON text);
//    * any other content type: the body is the model's single BYTES input as one element (or,
//      for a non-BYTES single input, its raw little-endian tensor bytes).
//    A value's shape is the input's declared shape when the element counts agree (so `5` and
//    `[5]` both fill a [1] input), else its own nesting; the batch dimension (1) is added when
//    the model batches.
//  Query parameters `priority` (integer >= 0) and `timeout_ms` (integer > 0) set the request's
//  priority and deadline as KServe's parameters do; the rest are request parameters
//  (InferRequest::parameters; an envelope model finds them in its envelope instead).
//
// Answers: an envelope model's `response` is the body, with the content type the model gave; a
// model with declared outputs answers a JSON object {output name: value} of the outputs of its
// answer, each value nested by the output's shape without the batch dimension.
//
// The envelope's texts (query parameters, field names, filenames, content types) must be UTF-8,
// as the Python runner reads them: anything else is refused here, naming it.

#include <memory>

#include "frontend/http/http_types.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::http {

// The InferRequest for `http` (its body is consumed) to `model`; model_name/version are left
// for the caller. InvalidArgument naming the field for anything the model cannot take.
StatusOr<std::unique_ptr<InferRequest>> DecodePredictRequest(HttpRequest& http,
                                                             const ModelConfig& model);

// The reply for `response` of `model`. Internal when the model's answer is malformed (a
// response that is not an envelope, an output that does not match its shape, a BYTES output
// that is not UTF-8 text for the JSON answer).
StatusOr<HttpReply> EncodePredictResponse(const InferResponse& response, const ModelConfig& model);

}  // namespace switchyard::http
