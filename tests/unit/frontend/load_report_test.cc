// The ORCA load report a response carries when its request asks with
// endpoint-load-metrics-format.
#include "frontend/http/load_report.h"

#include <gtest/gtest.h>

namespace switchyard::http {
namespace {

TEST(LoadReportTest, TextAndJsonInAnyCase) {
  const Server::Load load{.queued = 3, .running = 2, .utilization = 0.5};
  const std::string text =
      "TEXT application_utilization=0.5, named_metrics.queued_requests=3, "
      "named_metrics.running_requests=2";
  EXPECT_EQ(LoadReport("TEXT", load), text);
  EXPECT_EQ(LoadReport("text", load), text);
  EXPECT_EQ(LoadReport("Json", load),
            R"(JSON {"application_utilization":0.5,"named_metrics":{"queued_requests":3,)"
            R"("running_requests":2}})");
}

TEST(LoadReportTest, OtherFormatsGetNoReport) {
  for (std::string_view format : {"BIN", "", "TEXTS", "protobuf"}) {
    EXPECT_EQ(LoadReport(format, {}), std::nullopt) << format;
  }
}

}  // namespace
}  // namespace switchyard::http
