#include "bench/report.h"

#include <gtest/gtest.h>

#include "simdjson.h"

namespace switchyard::bench {
namespace {

RunInfo Info() {
  RunInfo info;
  info.options.model = "sim\"ple";
  info.options.url = "http://127.0.0.1:8000";
  info.threads = 2;
  info.items_per_request = 1;
  return info;
}

LevelResult Level(int concurrency, bool with_server) {
  LevelResult level;
  level.concurrency = concurrency;
  level.stable = concurrency == 1;
  level.window_rps = {900, 1000, 1050};
  level.reported_s = 10;
  for (int i = 1; i <= 10000; ++i) level.counters.latency_ns.Record(uint64_t(i) * 100);
  level.counters.successes = 10000;
  level.counters.items = 10000;
  level.counters.http_errors[429] = 7;
  level.counters.connection_errors = 2;
  level.counters.first_connection_error = "UNAVAILABLE: connect: refused";
  if (with_server) level.server = ServerSplit{10000, 10000, 5000, 12.5, 3.25};
  return level;
}

TEST(ReportTest, JsonIsValidAndComplete) {
  std::string json = ResultsJson(Info(), {Level(1, true), Level(64, false)});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["model"]), "sim\"ple");
  EXPECT_EQ(int64_t(root["poll_us"]), 0);
  simdjson::dom::array levels = root["levels"];
  ASSERT_EQ(levels.size(), 2u);
  simdjson::dom::element first = levels.at(0);
  EXPECT_EQ(int64_t(first["concurrency"]), 1);
  EXPECT_TRUE(bool(first["stable"]));
  EXPECT_DOUBLE_EQ(double(first["throughput_rps"]), 1000.0);
  EXPECT_EQ(simdjson::dom::array(first["window_rps"]).size(), 3u);
  EXPECT_NEAR(double(first["latency_us"]["p50"]), 500, 5);
  EXPECT_NEAR(double(first["latency_us"]["p99"]), 990, 10);
  EXPECT_EQ(int64_t(first["errors"]["total"]), 9);
  EXPECT_EQ(int64_t(first["errors"]["by_status"]["429"]), 7);
  EXPECT_DOUBLE_EQ(double(first["server"]["queue_us"]), 12.5);
  EXPECT_DOUBLE_EQ(double(first["server"]["compute_infer_us"]), 3.25);
  EXPECT_EQ(int64_t(first["server"]["items"]), 10000);
  EXPECT_TRUE(levels.at(1)["server"].is_null());
  EXPECT_FALSE(bool(levels.at(1)["stable"]));
}

TEST(ReportTest, TableHasARowPerLevelAndErrorDetails) {
  std::string table = FormatTable(Info(), {Level(1, true), Level(64, false)});
  EXPECT_NE(table.find("concurrency"), std::string::npos);
  EXPECT_NE(table.find("1000.0"), std::string::npos);
  EXPECT_NE(table.find("12.5"), std::string::npos);
  EXPECT_NE(table.find("UNSTABLE"), std::string::npos);
  EXPECT_NE(table.find("errors at concurrency 64: HTTP 429 x 7, connection x 2"),
            std::string::npos);
  EXPECT_EQ(table.find("polling"), std::string::npos);
}

TEST(ReportTest, PollingClientsAreNamedInTableAndJson) {
  RunInfo info = Info();
  info.options.poll = std::chrono::microseconds(20000);
  EXPECT_NE(FormatTable(info, {Level(1, true)}).find("polling 20000 us"), std::string::npos);
  std::string json = ResultsJson(info, {Level(1, true)});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(int64_t(root["poll_us"]), 20000);
}

LevelResult OpenLevel() {
  LevelResult level = Level(256, true);
  level.offered_rps = 2800;
  level.counters.sent = 28000;
  level.counters.late = 12;
  level.counters.http_error_latency_ns[429].Record(500000);
  level.counters.service_ns_by_status[429].Record(200000);
  level.totals.sent = 30000;
  level.totals.answered = 29990;
  level.totals.connection_errors = 4;
  level.unsent = 3;
  level.instances = std::vector<InstanceCounters>{{"m/0", "GPU0", 10, 30}, {"m/1", "GPU1", 5, 10}};
  return level;
}

TEST(ReportTest, OpenLoopJsonHasRateLateTotalsAndInstances) {
  RunInfo info = Info();
  info.options.mode = LoadMode::kRate;
  std::string json = ResultsJson(info, {OpenLevel()});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["mode"]), "rate");
  EXPECT_EQ(std::string_view(root["arrival"]), "poisson");
  simdjson::dom::element level = simdjson::dom::array(root["levels"]).at(0);
  EXPECT_DOUBLE_EQ(double(level["offered_rps"]), 2800);
  EXPECT_DOUBLE_EQ(double(level["sent_rps"]), 2800);
  EXPECT_EQ(int64_t(level["late"]), 12);
  EXPECT_NEAR(double(level["errors"]["latency_us_by_status"]["429"]["p99"]), 500, 5);
  EXPECT_NEAR(double(level["errors"]["service_us_by_status"]["429"]["p50"]), 200, 2);
  EXPECT_EQ(int64_t(level["totals"]["unanswered"]), 6);
  EXPECT_EQ(int64_t(level["totals"]["unsent"]), 3);
  simdjson::dom::array instances = level["instances"];
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(std::string_view(instances.at(1)["device"]), "GPU1");
  EXPECT_EQ(int64_t(instances.at(0)["items"]), 30);
}

TEST(ReportTest, OpenLoopTableShowsOfferedRateAndInstanceShares) {
  RunInfo info = Info();
  info.options.mode = LoadMode::kRate;
  std::string table = FormatTable(info, {OpenLevel()});
  EXPECT_NE(table.find("offered/s"), std::string::npos) << table;
  EXPECT_NE(table.find("2800.0"), std::string::npos) << table;
  EXPECT_NE(table.find("rate 2800/s: whole level: sent 30000 (late 0), answered 29990"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("unanswered 6, never sent 3"), std::string::npos) << table;
  EXPECT_NE(table.find("75.0%"), std::string::npos) << table;  // m/0: 30 of 40 items
  EXPECT_NE(table.find("HTTP 429 x 7 (p50 "), std::string::npos) << table;
}

TEST(ReportTest, GrpcErrorsAreNamedByCodeWithTheirFirstMessage) {
  RunInfo info = Info();
  info.options.protocol = Protocol::kGrpc;
  info.options.url = "grpc://127.0.0.1:8001";
  info.options.grpc_mode = GrpcMode::kStream;
  LevelResult level = Level(4, false);
  level.counters.http_errors.clear();
  level.counters.http_errors[8] = 3;  // RESOURCE_EXHAUSTED
  level.counters.http_errors[kGrpcStreamError] = 2;
  level.counters.first_error_message[8] = "queue \"full\"";
  level.counters.first_error_message[kGrpcStreamError] = "model failed";
  level.counters.service_ns_by_status[0].Record(1000);

  std::string table = FormatTable(info, {level});
  EXPECT_NE(table.find("gRPC streams"), std::string::npos) << table;
  EXPECT_NE(table.find("gRPC RESOURCE_EXHAUSTED x 3"), std::string::npos) << table;
  EXPECT_NE(table.find("(first: queue \"full\")"), std::string::npos) << table;
  EXPECT_NE(table.find("gRPC stream error_message x 2"), std::string::npos) << table;
  EXPECT_EQ(table.find("HTTP"), std::string::npos) << table;

  std::string json = ResultsJson(info, {level});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["protocol"]), "grpc");
  EXPECT_EQ(std::string_view(root["grpc_mode"]), "stream");
  EXPECT_EQ(std::string_view(root["format"]), "raw");
  simdjson::dom::element errors = root["levels"].at(0)["errors"];
  EXPECT_EQ(uint64_t(errors["by_status"]["RESOURCE_EXHAUSTED"]), 3u);
  EXPECT_EQ(uint64_t(errors["by_status"]["STREAM_ERROR"]), 2u);
  EXPECT_EQ(std::string_view(errors["first_message_by_status"]["RESOURCE_EXHAUSTED"]),
            "queue \"full\"");
  EXPECT_EQ(errors["service_us_by_status"]["OK"].error(), simdjson::SUCCESS);
}

TEST(ReportTest, HttpJsonKeepsNumericStatusesAndNamesItsProtocol) {
  std::string json = ResultsJson(Info(), {Level(1, false)});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(root["protocol"]), "http");
  EXPECT_TRUE(root["grpc_mode"].is_null());
  EXPECT_EQ(uint64_t(root["levels"].at(0)["errors"]["by_status"]["429"]), 7u);
  EXPECT_EQ(StatusName(Protocol::kHttp, 429), "HTTP 429");
  EXPECT_EQ(StatusKey(Protocol::kGrpc, 14), "UNAVAILABLE");
  EXPECT_EQ(StatusKey(Protocol::kGrpc, 99), "CODE_UNKNOWN");
}

TEST(LoadRecorderTest, KeepsTheFirstMessageOfEachStatus) {
  LoadRecorder recorder;
  recorder.RecordHttpError(8, Duration(1), Duration(1), "first");
  recorder.RecordHttpError(8, Duration(1), Duration(1), "second");
  recorder.RecordHttpError(429, Duration(1), Duration(1));
  WindowCounters window = recorder.TakeWindow();
  EXPECT_EQ(window.http_errors[8], 2u);
  EXPECT_EQ(window.first_error_message[8], "first");
  EXPECT_EQ(window.first_error_message.count(429), 0u);
  WindowCounters merged;
  merged.first_error_message[8] = "earlier";
  merged.Merge(window);
  EXPECT_EQ(merged.first_error_message[8], "earlier");
  EXPECT_EQ(recorder.Totals().errors, 3u);
}

}  // namespace
}  // namespace switchyard::bench
