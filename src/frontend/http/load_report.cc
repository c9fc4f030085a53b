#include "frontend/http/load_report.h"

#include <algorithm>
#include <cctype>

#include "fmt/format.h"
#include "frontend/http/json_writer.h"

namespace switchyard::http {
namespace {

bool SameLetters(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::optional<std::string> LoadReport(std::string_view format, const Server::Load& load) {
  if (SameLetters(format, "TEXT")) {
    return fmt::format(
        "TEXT application_utilization={}, named_metrics.queued_requests={}, "
        "named_metrics.running_requests={}",
        load.utilization, load.queued, load.running);
  }
  if (SameLetters(format, "JSON")) {
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
