#include "frontend/http/load_report.h"

#include <boost/beast/core/string.hpp>

#include "fmt/format.h"
#include "frontend/http/json_writer.h"

namespace switchyard::http {

namespace beast = boost::beast;

std::optional<std::string> LoadReport(std::string_view format_text, const Server::Load& load) {
  const beast::string_view format(format_text.data(), format_text.size());
  if (beast::iequals(format, "TEXT")) {
    return fmt::format(
        "TEXT application_utilization={}, named_metrics.queued_requests={}, "
        "named_metrics.running_requests={}",
        load.utilization, load.queued, load.running);
  }
  if (beast::iequals(format, "JSON")) {
    std::string json = "JSON ";
    JsonWriter w(&json);
    w.StartObject();
    w.DoubleMember("application_utilization", load.utilization);
    w.Key("named_metrics");
    w.StartObject();
    w.IntMember("queued_requests", load.queued);
    w.IntMember("running_requests", load.running);
    w.EndObject();
    w.EndObject();
    return json;
  }
  return std::nullopt;
}

}  // namespace switchyard::http
