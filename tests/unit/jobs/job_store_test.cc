#include "jobs/job_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace switchyard::jobs {
namespace {

class JobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/job-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = std::string(pattern) + "/state";  // made by Open
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path());
  }
  void Reopen() {
    store_.reset();
    auto opened = JobStore::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }
  JobRecord Add(const std::string& id, const std::string& model = "m",
                const std::string& key = "") {
    JobRequest request{.target = "/v2/models/" + model + "/predict?x=1",
                       .content_type = "text/plain",
                       .body = std::string("body\0of ", 8) + id};
    bool created = false;
    auto record = store_->Add(id, model, -1, request, key, 1000 + next_ms_++, &created);
    EXPECT_TRUE(record.ok()) << record.status().message();
    return record.ok() ? *record : JobRecord{};
  }
  JobRecord Get(const std::string& id) {
    auto record = store_->Get(id);
    EXPECT_TRUE(record.ok() && record->has_value()) << id;
    return record.ok() && record->has_value() ? **record : JobRecord{};
  }
  static std::vector<std::string> Ids(const StatusOr<std::vector<JobRecord>>& records) {
    std::vector<std::string> ids;
    if (records.ok()) {
      for (const JobRecord& r : *records) ids.push_back(r.id);
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<JobStore> store_;
  int next_ms_ = 0;
};

TEST_F(JobStoreTest, AJobKeepsItsRequestUntilItFinishesWithItsResponse) {
  JobRecord added = Add("a");
  EXPECT_EQ(added.state, JobState::kQueued);
  EXPECT_EQ(added.attempts, 0);
  EXPECT_FALSE(store_->Result("a").ok());  // no result before it ran

  auto running = store_->MarkRunning("a", 2000);
  ASSERT_TRUE(running.ok());
  const JobRequest& request = running->request;
  EXPECT_EQ(request.target, "/v2/models/m/predict?x=1");
  EXPECT_EQ(request.content_type, "text/plain");
  EXPECT_FALSE(request.inference_header_length.has_value());
  EXPECT_EQ(request.body, std::string("body\0of a", 9));  // bytes as sent, NUL included
  EXPECT_EQ(running->record.state, JobState::kRunning);
  EXPECT_EQ(running->record.attempts, 1);
  EXPECT_EQ(running->record.started_ms, 2000);
  EXPECT_EQ(store_->MarkRunning("a", 2001).status().code(),
            StatusCode::kNotFound);  // not queued now
  JobResult result{.status = 200,
                   .content_type = "application/octet-stream",
                   .headers = {{"Inference-Header-Content-Length", "12"}},
                   .body = std::string("\0\1\2", 3)};
  auto finished = store_->Finish("a", JobState::kSucceeded, result, "", 3000);
  ASSERT_TRUE(finished.ok());
  JobRecord done = Get("a");
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(done.created_ms, added.created_ms);
  EXPECT_EQ(done.started_ms, 2000);
  EXPECT_EQ(done.finished_ms, 3000);
  EXPECT_EQ(done.result_status, 200u);
  EXPECT_EQ(finished->state, done.state);  // the change returns the job as the store has it
  EXPECT_EQ(finished->finished_ms, done.finished_ms);
  EXPECT_EQ(finished->result_status, done.result_status);
  auto stored = store_->Result("a");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, 200u);
  EXPECT_EQ(stored->content_type, "application/octet-stream");
  EXPECT_EQ(stored->headers, result.headers);
  EXPECT_EQ(stored->body, result.body);
  EXPECT_EQ(store_->stored_bytes(), result.body.size());  // the request dropped once it ran
  EXPECT_EQ(store_->Cancel("a", 4000).status().code(), StatusCode::kNotFound);  // it has ended
}

TEST_F(JobStoreTest, StateChangesHappenOnlyFromTheStatesThatAllowThem) {
  Add("q");
  EXPECT_EQ(store_->MarkQueued("q", false).status().code(), StatusCode::kNotFound);  // not running
  EXPECT_EQ(store_->Finish("q", JobState::kFailed, {.status = 500}, "x", 1).status().code(),
            StatusCode::kNotFound);  // never ran
  ASSERT_TRUE(store_->MarkRunning("q", 1).ok());
  ASSERT_TRUE(store_->MarkQueued("q", /*undo_attempt=*/true).ok());  // its model said 429
  EXPECT_EQ(Get("q").attempts, 0);
  ASSERT_TRUE(store_->MarkRunning("q", 2).ok());
  ASSERT_TRUE(store_->MarkQueued("q", /*undo_attempt=*/false).ok());  // a restart found it
  EXPECT_EQ(Get("q").attempts, 1);
  ASSERT_TRUE(store_->Cancel("q", 3).ok());
  EXPECT_EQ(Get("q").state, JobState::kCancelled);
  EXPECT_EQ(Get("q").finished_ms, 3);
  EXPECT_FALSE(store_->Result("q").ok());  // a cancelled job has no result
  EXPECT_EQ(store_->Cancel("nope", 4).status().code(), StatusCode::kNotFound);
  auto missing = store_->Get("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(JobStoreTest, AnIdempotencyKeyUsedBeforeReturnsTheFirstJob) {
  Add("first", "m", "key-1");
  JobRequest request{.target = "/v2/models/m/predict", .body = "again"};
  bool created = true;
  auto again = store_->Add("second", "m", -1, request, "key-1", 5000, &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, "first");
  EXPECT_FALSE(store_->Get("second")->has_value());
  store_->Add("third", "m", -1, request, "key-2", 5001, &created);
  EXPECT_TRUE(created);
}

TEST_F(JobStoreTest, ListsPagesInSubmissionOrderByModelAndState) {
  for (const char* id : {"a", "b", "c", "d", "e"}) Add(id, std::string(id) < "c" ? "m" : "n");
  ASSERT_TRUE(store_->MarkRunning("d", 1).ok());
  EXPECT_EQ(Ids(store_->List("", std::nullopt, "", 100)),
            (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Ids(store_->List("", std::nullopt, "", 2)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(store_->List("", std::nullopt, "b", 2)), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(Ids(store_->List("n", std::nullopt, "", 100)),
            (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(Ids(store_->List("", JobState::kRunning, "", 100)), (std::vector<std::string>{"d"}));
  EXPECT_EQ(Ids(store_->List("n", JobState::kQueued, "c", 100)), (std::vector<std::string>{"e"}));
  EXPECT_EQ(Ids(store_->Unfinished()), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST_F(JobStoreTest, EverythingCommittedIsThereAfterAReopen) {
  Add("a");
  Add("b");
  Add("c");
  ASSERT_TRUE(store_->MarkRunning("a", 10).ok());
  ASSERT_TRUE(store_->MarkRunning("b", 11).ok());
  ASSERT_TRUE(
      store_->Finish("b", JobState::kFailed, {.status = 400, .body = "{}"}, "bad", 12).ok());
  Reopen();
  EXPECT_EQ(Get("a").state, JobState::kRunning);
  EXPECT_EQ(Get("b").state, JobState::kFailed);
  EXPECT_EQ(Get("b").error, "bad");
  EXPECT_EQ(Get("c").state, JobState::kQueued);
  EXPECT_EQ(Ids(store_->Unfinished()), (std::vector<std::string>{"a", "c"}));
  JobRecord d = Add("d");
  EXPECT_GT(d.seq, Get("c").seq);  // submission order continues
}

TEST_F(JobStoreTest, CountsTheBodiesItHoldsAndRemovesExpiredJobs) {
  Add("a");  // bodies "body\0of " + id: 9 bytes each
  Add("b");
  Add("c");
  EXPECT_EQ(store_->stored_bytes(), 27u);
  ASSERT_TRUE(store_->MarkRunning("a", 10).ok());
  ASSERT_TRUE(
      store_->Finish("a", JobState::kSucceeded, {.status = 200, .body = "12345"}, "", 100).ok());
  EXPECT_EQ(store_->stored_bytes(), 18u + 5u);  // a's request gone, its result kept
  ASSERT_TRUE(store_->Cancel("b", 200).ok());
  EXPECT_EQ(store_->stored_bytes(), 9u + 5u);
  Reopen();
  EXPECT_EQ(store_->stored_bytes(), 14u);  // counted again from the database

  auto removed = store_->DeleteFinishedBefore(150);  // a finished at 100, b at 200
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(store_->Get("a")->has_value());
  EXPECT_TRUE(store_->Get("b")->has_value());
  EXPECT_EQ(store_->stored_bytes(), 9u);
  removed = store_->DeleteFinishedBefore(1000000);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);  // b; c is queued and stays
  EXPECT_TRUE(store_->Get("c")->has_value());
  EXPECT_EQ(store_->stored_bytes(), 9u);
}

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                         JobState::kFailed, JobState::kCancelled}) {
    EXPECT_EQ(ParseJobState(JobStateName(state)), state);
  }
  EXPECT_FALSE(ParseJobState("done").has_value());
  EXPECT_FALSE(Finished(JobState::kRunning));
  EXPECT_TRUE(Finished(JobState::kCancelled));
}

TEST(JobStoreOpenTest, AFolderThatCannotBeMadeIsNamed) {
  auto opened = JobStore::Open("/proc/no/such/state");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("/proc/no/such/state"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace switchyard::jobs
