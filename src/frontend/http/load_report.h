#pragma once
// The ORCA endpoint load report a response carries when its request asks for one with the
// `endpoint-load-metrics-format` header (as Triton and vLLM answer it): for load balancers and
// gateways that weigh endpoints by the load each answer reports, with no scraping.

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/server.h"

namespace switchyard::http {

inline constexpr std::string_view kLoadReportHeader = "endpoint-load-metrics";

// The `endpoint-load-metrics` header's value for `load` in `format` (case-insensitive):
//   TEXT: "TEXT application_utilization=0.5, named_metrics.queued_requests=3,
//          named_metrics.running_requests=2"
//   JSON: "JSON {"application_utilization":0.5,"named_metrics":{"queued_requests":3,
//          "running_requests":2}}"
// application_utilization is the busy share of instance capacity (0 to 1), the queued and
// running counts are the server's (the switchyard_server_* gauges). nullopt for any other
// format (BIN, the serialized protobuf, is not served): the response then carries no report.
std::optional<std::string> LoadReport(std::string_view format, const Server::Load& load);

}  // namespace switchyard::http
