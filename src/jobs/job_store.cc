#include "jobs/job_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <system_error>
#include <utility>

#include "fmt/format.h"

namespace switchyard::jobs {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"queued", "running", "succeeded", "failed",
                                                         "cancelled"};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT UNIQUE NOT NULL,
  idempotency_key TEXT UNIQUE,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER,
  finished_ms INTEGER,
  target TEXT NOT NULL,
  content_type TEXT NOT NULL,
  header_length TEXT,
  request BLOB,
  result_status INTEGER,
  result_type TEXT,
  result_headers TEXT,
  result BLOB,
  error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
)sql";

constexpr const char* kRecordColumns =
    "id, seq, model, version, state, attempts, created_ms, started_ms, finished_ms, "
    "result_status, error";
constexpr int kRecordColumnCount = 11;  // ReadRecord reads columns 0 to 10

// One prepared statement, finalised when it goes. Column and parameter indices as SQLite's
// (parameters from 1, columns from 0).
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, std::string_view text) {  // never NULL, even for an empty view
    Check(sqlite3_bind_text(stmt_, i, text.data() == nullptr ? "" : text.data(),
                            static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& BindBlob(int i, std::string_view bytes) {  // never NULL, even when empty
    Check(sqlite3_bind_blob64(stmt_, i, bytes.data() == nullptr ? "" : bytes.data(), bytes.size(),
                              SQLITE_TRANSIENT));
    return *this;
  }
  Statement& Bind(int i, int64_t value) {
    Check(sqlite3_bind_int64(stmt_, i, value));
    return *this;
  }
  Statement& BindNull(int i) {
    Check(sqlite3_bind_null(stmt_, i));
    return *this;
  }

  // The next row (true), the end (false), or the error.
  StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return Error();
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    rc_ = rc;
    return Error();
  }
  // Steps past the rows left (a RETURNING statement's change is complete only then).
  Status Finish() {
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return Status::Ok();
    }
  }
  // Runs a statement that returns no rows.
  Status Run() {
    auto stepped = Step();
    return stepped.ok() ? Status::Ok() : stepped.status();
  }

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::optional<int64_t> OptionalInt(int column) const {
    return IsNull(column) ? std::nullopt : std::optional<int64_t>(Int(column));
  }
  std::string Text(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);  // text or blob, not copied
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr
               ? std::string()
               : std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
  }

 private:
  void Check(int rc) {
    if (rc_ == SQLITE_OK && rc != SQLITE_OK) rc_ = rc;
  }
  Status Error() const {
    return Internal(fmt::format("job store: {} ({})", sqlite3_errmsg(db_), sqlite3_errstr(rc_)));
  }

  sqlite3* const db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return Status::Ok();
  Status error = Internal(fmt::format("job store: {}", message ? message : "error"));
  sqlite3_free(message);
  return error;
}

JobRecord ReadRecord(const Statement& row) {
  JobRecord record;
  record.id = row.Text(0);
  record.seq = row.Int(1);
  record.model = row.Text(2);
  record.version = row.Int(3);
  record.state = ParseJobState(row.Text(4)).value_or(JobState::kFailed);
  record.attempts = static_cast<int>(row.Int(5));
  record.created_ms = row.Int(6);
  record.started_ms = row.OptionalInt(7);
  record.finished_ms = row.OptionalInt(8);
  if (auto status = row.OptionalInt(9)) record.result_status = static_cast<unsigned>(*status);
  record.error = row.Text(10);
  return record;
}

// Every row `select` gives.
StatusOr<std::vector<JobRecord>> ReadRecords(Statement& select) {
  std::vector<JobRecord> records;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return records;
    records.push_back(ReadRecord(select));
  }
}

// Headers as "name: value" lines.
std::string JoinHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string text;
  for (const auto& [name, value] : headers) text += name + ": " + value + "\n";
  return text;
}

std::vector<std::pair<std::string, std::string>> SplitHeaders(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> headers;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (std::size_t colon = line.find(": "); colon != std::string_view::npos) {
      headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
  }
  return headers;
}

// Runs an UPDATE ... RETURNING kRecordColumns of one job: the job as changed, or NotFound
// naming it when no row was in the state the change needs.
StatusOr<JobRecord> ReadChanged(Statement& update, std::string_view id) {
  ASSIGN_OR_RETURN(bool found, update.Step());
  if (!found) return NotFound(fmt::format("no job '{}' in that state", id));
  JobRecord record = ReadRecord(update);
  RETURN_IF_ERROR(update.Finish());
  return record;
}

}  // namespace

std::string_view JobStateName(JobState state) { return kStateNames[static_cast<int>(state)]; }

std::optional<JobState> ParseJobState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    return Internal(fmt::format("cannot create the state folder {}: {}", directory, ec.message()));
  }
  const std::string path = (std::filesystem::path(directory) / "jobs.db").string();
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status error = Internal(fmt::format("cannot open the job store {}: {}", path,
                                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return error;
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  // WAL: a commit is one append, and it survives the process being killed (synchronous=NORMAL
  // gives up only what a power cut would lose since the last checkpoint).
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                          "PRAGMA busy_timeout=5000", kSchema}) {
    if (Status done = Exec(db, sql); !done.ok()) {
      return Internal(fmt::format("{} ({})", done.message(), path));
    }
  }
  {
    MutexLock lock(&store->mu_);
    Statement total(db,
                    "SELECT COALESCE(SUM(LENGTH(request)), 0) + "
                    "COALESCE(SUM(LENGTH(result)), 0) FROM jobs");
    ASSIGN_OR_RETURN(bool row, total.Step());
    if (row) store->stored_bytes_ = static_cast<uint64_t>(total.Int(0));
  }
  return store;
}

JobStore::~JobStore() { sqlite3_close(db_); }

StatusOr<JobRecord> JobStore::Add(const std::string& id, const std::string& model, int64_t version,
                                  const JobRequest& request, const std::string& idempotency_key,
                                  int64_t now_ms, bool* created) {
  MutexLock lock(&mu_);
  *created = false;
  if (!idempotency_key.empty()) {
    Statement earlier(
        db_, fmt::format("SELECT {} FROM jobs WHERE idempotency_key = ?1", kRecordColumns));
    earlier.Bind(1, idempotency_key);
    ASSIGN_OR_RETURN(bool found, earlier.Step());
    if (found) return ReadRecord(earlier);
  }
  Statement insert(db_,
                   "INSERT INTO jobs(id, idempotency_key, model, version, state, created_ms, "
                   "target, content_type, header_length, request) "
                   "VALUES(?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9)");
  insert.Bind(1, id).Bind(3, model).Bind(4, version).Bind(5, now_ms);
  insert.Bind(6, request.target).Bind(7, request.content_type).BindBlob(9, request.body);
  if (idempotency_key.empty()) {
    insert.BindNull(2);
  } else {
    insert.Bind(2, idempotency_key);
  }
  if (request.inference_header_length) {
    insert.Bind(8, *request.inference_header_length);
  } else {
    insert.BindNull(8);
  }
  RETURN_IF_ERROR(insert.Run());
  stored_bytes_ += request.body.size();
  *created = true;
  return JobRecord{.id = id,
                   .seq = sqlite3_last_insert_rowid(db_),
                   .model = model,
                   .version = version,
                   .state = JobState::kQueued,
                   .created_ms = now_ms};
}

StatusOr<std::optional<JobRecord>> JobStore::Get(std::string_view id) const {
  MutexLock lock(&mu_);
  Statement select(db_, fmt::format("SELECT {} FROM jobs WHERE id = ?1", kRecordColumns));
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::optional<JobRecord>();
  return std::optional<JobRecord>(ReadRecord(select));
}

StatusOr<JobResult> JobStore::Result(std::string_view id) const {
  MutexLock lock(&mu_);
  Statement select(db_,
                   "SELECT result_status, result_type, result_headers, result FROM jobs "
                   "WHERE id = ?1 AND result_status IS NOT NULL");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return NotFound(fmt::format("job '{}' has no result", id));
  return JobResult{.status = static_cast<unsigned>(select.Int(0)),
                   .content_type = select.Text(1),
                   .headers = SplitHeaders(select.Text(2)),
                   .body = select.Text(3)};
}

StatusOr<RunningJob> JobStore::MarkRunning(std::string_view id, int64_t now_ms) {
  MutexLock lock(&mu_);
  Statement update(
      db_,
      fmt::format("UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ?2 "
                  "WHERE id = ?1 AND state = 'queued' "
                  "RETURNING {}, target, content_type, header_length, request",
                  kRecordColumns));
  update.Bind(1, id).Bind(2, now_ms);
  ASSIGN_OR_RETURN(bool found, update.Step());
  if (!found) return NotFound(fmt::format("no job '{}' in that state", id));
  constexpr int kFirst = kRecordColumnCount;
  RunningJob running{.record = ReadRecord(update),
                     .request = {.target = update.Text(kFirst),
                                 .content_type = update.Text(kFirst + 1),
                                 .body = update.Text(kFirst + 3)}};
  if (!update.IsNull(kFirst + 2)) running.request.inference_header_length = update.Text(kFirst + 2);
  RETURN_IF_ERROR(update.Finish());
  return running;
}

StatusOr<JobRecord> JobStore::MarkQueued(std::string_view id, bool undo_attempt) {
  MutexLock lock(&mu_);
  Statement update(db_, fmt::format("UPDATE jobs SET state = 'queued', attempts = attempts - ?2 "
                                    "WHERE id = ?1 AND state = 'running' RETURNING {}",
                                    kRecordColumns));
  update.Bind(1, id).Bind(2, int64_t{undo_attempt ? 1 : 0});
  return ReadChanged(update, id);
}

StatusOr<JobRecord> JobStore::Finish(std::string_view id, JobState state, const JobResult& result,
                                     const std::string& error, int64_t now_ms) {
  MutexLock lock(&mu_);
  Statement update(db_, fmt::format("UPDATE jobs SET state = ?2, finished_ms = ?3, "
                                    "result_status = ?4, result_type = ?5, result_headers = ?6, "
                                    "result = ?7, error = ?8, request = NULL "
                                    "WHERE id = ?1 AND state = 'running' RETURNING {}",
                                    kRecordColumns));
  update.Bind(1, id).Bind(2, JobStateName(state)).Bind(3, now_ms);
  update.Bind(4, static_cast<int64_t>(result.status)).Bind(5, result.content_type);
  update.Bind(6, JoinHeaders(result.headers)).BindBlob(7, result.body).Bind(8, error);
  ASSIGN_OR_RETURN(uint64_t before, BodyBytes(id));
  ASSIGN_OR_RETURN(JobRecord record, ReadChanged(update, id));
  stored_bytes_ = stored_bytes_ - before + result.body.size();
  return record;
}

StatusOr<JobRecord> JobStore::Cancel(std::string_view id, int64_t now_ms) {
  MutexLock lock(&mu_);
  Statement update(db_, fmt::format("UPDATE jobs SET state = 'cancelled', finished_ms = ?2, "
                                    "request = NULL WHERE id = ?1 AND state IN ('queued', "
                                    "'running') RETURNING {}",
                                    kRecordColumns));
  update.Bind(1, id).Bind(2, now_ms);
  ASSIGN_OR_RETURN(uint64_t before, BodyBytes(id));
  ASSIGN_OR_RETURN(JobRecord record, ReadChanged(update, id));
  stored_bytes_ -= before;
  return record;
}

StatusOr<std::vector<JobRecord>> JobStore::List(const std::string& model,
                                                std::optional<JobState> state,
                                                const std::string& after, int limit) const {
  MutexLock lock(&mu_);
  Statement select(db_, fmt::format("SELECT {} FROM jobs WHERE (?1 = '' OR model = ?1) AND "
                                    "(?2 = '' OR state = ?2) AND seq > "
                                    "COALESCE((SELECT seq FROM jobs WHERE id = ?3), 0) "
                                    "ORDER BY seq LIMIT ?4",
                                    kRecordColumns));
  select.Bind(1, model).Bind(2, state ? JobStateName(*state) : std::string_view());
  select.Bind(3, after).Bind(4, static_cast<int64_t>(limit));
  return ReadRecords(select);
}

StatusOr<std::vector<JobRecord>> JobStore::Unfinished() const {
  MutexLock lock(&mu_);
  Statement select(db_, fmt::format("SELECT {} FROM jobs WHERE state IN ('queued', 'running') "
                                    "ORDER BY seq",
                                    kRecordColumns));
  return ReadRecords(select);
}

StatusOr<int64_t> JobStore::DeleteFinishedBefore(int64_t cutoff_ms) {
  MutexLock lock(&mu_);
  constexpr const char* kExpired =
      "FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_ms < ?1";
  Statement sizes(db_, fmt::format("SELECT COALESCE(SUM(LENGTH(request)), 0) + "
                                   "COALESCE(SUM(LENGTH(result)), 0) {}",
                                   kExpired));
  sizes.Bind(1, cutoff_ms);
  ASSIGN_OR_RETURN(bool row, sizes.Step());
  const uint64_t freed = row ? static_cast<uint64_t>(sizes.Int(0)) : 0;
  Statement remove(db_, fmt::format("DELETE {}", kExpired));
  RETURN_IF_ERROR(remove.Bind(1, cutoff_ms).Run());
  stored_bytes_ -= std::min(freed, stored_bytes_);
  return static_cast<int64_t>(sqlite3_changes(db_));
}

uint64_t JobStore::stored_bytes() const {
  MutexLock lock(&mu_);
  return stored_bytes_;
}

StatusOr<uint64_t> JobStore::BodyBytes(std::string_view id) const {
  Statement select(db_,
                   "SELECT COALESCE(LENGTH(request), 0) + COALESCE(LENGTH(result), 0) "
                   "FROM jobs WHERE id = ?1");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<uint64_t>(select.Int(0)) : uint64_t{0};
}

}  // namespace switchyard::jobs
