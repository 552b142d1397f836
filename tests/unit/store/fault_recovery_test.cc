// The store under file system faults, injected below LevelDB
// (FaultInjectionEnv) and below the stream logs (FaultInjectionFileSystem):
// a failed write fails that request with IOError; the store recovers by
// itself once the cause is gone (no reopen by the test), and afterwards
// every acknowledged write is there, the table is the fold of its stream,
// and every change has exactly one record, with no gap in the numbering.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../streams/fault_injection_file_system.h"
#include "eddy/store/database.h"
#include "eddy/store/item_codec.h"
#include "fault_injection_env.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

namespace fs = std::filesystem;
using testing::Eventually;
using testing::FaultInjectionEnv;
using ::testing::HasSubstr;
using testing::N;
using testing::S;
using EnvOp = FaultInjectionEnv::Op;
using EnvFault = FaultInjectionEnv::Fault;
using FileOp = streams::FaultInjectionFileSystem::Op;
using FileFault = streams::FaultInjectionFileSystem::Fault;

class FaultRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_fault_recovery_test_");
    Open();
    ASSERT_TRUE(db_->CreateTable(Schema("Orders", true)).ok());
    ASSERT_TRUE(db_->CreateTable(Schema("Plain", false)).ok());
  }

  void TearDown() override {
    env_.Clear();
    files_.Clear();
    db_.reset();
    fs::remove_all(dir_);
  }

  static TableSchema Schema(const std::string& name, bool stream) {
    TableSchema schema;
    schema.name = name;
    schema.hash_key = {"id", ValueType::kS};
    schema.attribute_definitions = {{"id", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    if (stream) schema.stream_view_type = StreamViewType::kNewAndOldImages;
    return schema;
  }

  void Open() {
    Database::Options options = options_;
    options.path = dir_.string();
    options.stream_shards = 2;
    options.maintenance_interval_ms = 3600 * 1000;
    options.ttl_sweep_interval_ms = ttl_interval_ms_;
    options.recovery_retry_ms = 2;
    options.recovery_max_retry_ms = 20;
    options.leveldb_env = &env_;
    options.stream_file_system = &files_;
    options.logger = std::make_shared<spdlog::logger>(
        "fault-test", std::make_shared<spdlog::sinks::null_sink_mt>());
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  std::shared_ptr<Table> T(const std::string& name = "Orders") {
    return db_->GetTable(name);
  }

  Status Put(const std::string& id, const std::string& v,
             const std::string& table = "Orders") {
    WriteOutcome out;
    return T(table)->Put(Item{{"id", S(id)}, {"v", N(v)}}, nullptr, &out);
  }

  // The item's v, or "" when there is none.
  std::string Get(const std::string& id, const std::string& table = "Orders") {
    auto got = T(table)->Get(Item{{"id", S(id)}});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !got->has_value()) return "";
    return (**got).at("v").scalar();
  }

  bool Recovered() {
    return Eventually([&] { return db_->health().ok(); });
  }

  struct StreamCheck {
    // Per item, the v of each record's new image ("" for a removal).
    std::map<std::string, std::vector<std::string>> changes;
    size_t records = 0;
  };
  // Reads every record of Orders' stream and checks what the store
  // promises: numbers without gaps in each shard; per item, each record's
  // old image is the previous record's new image (so there is exactly one
  // record per change, none lost, none repeated); and the last new image is
  // the item in the table.
  StreamCheck CheckStream() {
    StreamCheck check;
    auto stream = db_->ListStreams(std::string("Orders")).front();
    std::map<std::string, std::optional<Item>> last;
    for (uint32_t i = 0; i < stream->shard_count(); ++i) {
      streams::ShardLog* shard = stream->shard(i);
      auto read = shard->Read(shard->first_sequence(), 1000000, 256 << 20);
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok()) return check;
      uint64_t expected = shard->first_sequence();
      for (const auto& raw : read->records) {
        EXPECT_EQ(raw.sequence, expected++) << "gap in shard " << i;
        auto record = stream->Decode(i, raw);
        EXPECT_TRUE(record.ok());
        const std::string id = record->keys.at("id").scalar();
        auto [it, first] = last.try_emplace(id, std::nullopt);
        EXPECT_EQ(record->old_image, it->second)
            << "record " << raw.sequence << " of " << id
            << " does not follow the previous one";
        EXPECT_NE(record->old_image, record->new_image) << "no-op record";
        it->second = record->new_image;
        check.changes[id].push_back(
            record->new_image ? record->new_image->at("v").scalar() : "");
        ++check.records;
      }
    }
    for (const auto& [id, image] : last) {
      EXPECT_EQ(Get(id), image ? image->at("v").scalar() : "")
          << "table differs from its stream for " << id;
    }
    return check;
  }

  fs::path dir_;
  FaultInjectionEnv env_;
  streams::FaultInjectionFileSystem files_;
  Database::Options options_;
  int64_t ttl_interval_ms_ = 0;
  std::unique_ptr<Database> db_;
};

// A write-ahead log append cut short by a full disk: the request fails; the
// store reopens LevelDB by itself and redoes the write from its stream
// record (appended before LevelDB was written), so the write is applied
// exactly once; later writes work without a restart.
TEST_F(FaultRecoveryTest, FailedLogAppendIsRedoneAndWritesResume) {
  ASSERT_TRUE(Put("a", "1").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC).OnPath(".log").Partial(9));
  Status s = Put("b", "1");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  ASSERT_TRUE(Put("c", "1").ok());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "1") << "its record was in the stream: redone";
  EXPECT_EQ(Get("c"), "1");
  StreamCheck check = CheckStream();
  EXPECT_EQ(check.records, 3u);
  EXPECT_EQ(T()->Describe().item_count, 3);
}

// While the disk stays full every write fails at once with IOError (none
// is appended to the stream, so no change is recorded twice), reads go on,
// and the recovery keeps trying; once space is back writes resume.
TEST_F(FaultRecoveryTest, DiskFullFailsWritesUntilSpaceReturns) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Put("k" + std::to_string(i), "1").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC).OnPath(".log").Forever());
  EXPECT_TRUE(Put("k0", "2").IsIOError());
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(Put("x" + std::to_string(i), "1").IsIOError());
    EXPECT_TRUE(Put("p", "1", "Plain").IsIOError());
  }
  EXPECT_FALSE(db_->health().ok());
  EXPECT_EQ(Get("k1"), "1") << "reads go on";
  EXPECT_TRUE(Eventually([&] { return env_.Failures(EnvOp::kAppend) > 3; }))
      << "the recovery keeps trying";
  env_.Clear();
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  ASSERT_TRUE(Put("k4", "3").ok());
  ASSERT_TRUE(Put("p", "2", "Plain").ok());
  EXPECT_EQ(Get("k0"), "2") << "the first failed write was recorded: redone";
  EXPECT_EQ(Get("x3"), "");
  EXPECT_EQ(Get("p", "Plain"), "2");
  StreamCheck check = CheckStream();
  EXPECT_EQ(check.records, 7u);  // 5 inserts, k0 -> 2, k4 -> 3.
  EXPECT_THAT(check.changes["k0"], ::testing::ElementsAre("1", "2"));
}

// A table without a stream: the failed LevelDB write has no redo entry, so
// its outcome is whatever LevelDB's log recovery finds; acknowledged writes
// are all there and writes resume.
TEST_F(FaultRecoveryTest, FailedWriteOfTableWithoutStreamRecovers) {
  ASSERT_TRUE(Put("a", "1", "Plain").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, EIO).OnPath(".log"));
  EXPECT_TRUE(Put("b", "1", "Plain").IsIOError());
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  ASSERT_TRUE(Put("c", "1", "Plain").ok());
  EXPECT_EQ(Get("a", "Plain"), "1");
  EXPECT_EQ(Get("c", "Plain"), "1");
}

// With --sync a failed fsync of LevelDB's log sets LevelDB's sticky error;
// the store reopens it and goes on.
TEST_F(FaultRecoveryTest, FailedLogSyncIsRecovered) {
  db_.reset();
  options_.sync = true;
  Open();
  ASSERT_TRUE(Put("a", "1", "Plain").ok());
  env_.Inject(EnvFault::On(EnvOp::kSync, EIO).OnPath(".log"));
  EXPECT_TRUE(Put("b", "1", "Plain").IsIOError());
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  ASSERT_TRUE(Put("c", "1", "Plain").ok());
  EXPECT_EQ(Get("a", "Plain"), "1");
  EXPECT_EQ(Get("c", "Plain"), "1");
}

// A stream append that fails (disk full) leaves nothing: no record, no
// number used, no change; the store needs no recovery and the next write
// gets the next number.
TEST_F(FaultRecoveryTest, FailedStreamAppendLeavesNothing) {
  ASSERT_TRUE(Put("a", "1").ok());
  files_.Inject(FileFault::On(FileOp::kWrite, ENOSPC).Partial(11));
  EXPECT_TRUE(Put("b", "1").IsIOError());
  EXPECT_TRUE(db_->health().ok());
  EXPECT_EQ(Get("b"), "");
  ASSERT_TRUE(Put("b", "2").ok());
  StreamCheck check = CheckStream();
  EXPECT_EQ(check.records, 2u);
  EXPECT_THAT(check.changes["b"], ::testing::ElementsAre("2"));
}

// With --sync the record's fsync decides: when it fails the request fails
// (outcome unknown) but the record is in the stream already, so the store
// stops writes until the redo has applied it; the table never lags the
// stream, and the log makes the record durable before the next append.
TEST_F(FaultRecoveryTest, FailedStreamFsyncUnderSyncIsRedone) {
  db_.reset();
  options_.sync = true;
  Open();
  ASSERT_TRUE(Put("a", "1").ok());
  files_.Inject(FileFault::On(FileOp::kSync, EIO).OnPath("shard-"));
  EXPECT_TRUE(Put("b", "1").IsIOError());
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  EXPECT_EQ(Get("b"), "1");
  ASSERT_TRUE(Put("c", "1").ok());
  EXPECT_EQ(CheckStream().records, 3u);
}

// LevelDB's background flush of the memtable to a table file fails: its
// sticky background error fails every write; the store reopens it (the
// log still holds the memtable's writes) and goes on.
TEST_F(FaultRecoveryTest, FailedTableFileWriteIsRecovered) {
  db_.reset();
  options_.write_buffer_bytes = 64 << 10;  // Flush after ~64 KB.
  Open();
  env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC).OnPath(".ldb"));
  const std::string big(1000, 'x');
  int acknowledged = 0;
  for (int i = 0; i < 400 && db_->health().ok(); ++i) {
    WriteOutcome out;
    if (T()->Put(Item{{"id", S("k" + std::to_string(i))},
                      {"v", N("1")},
                      {"pad", S(big)}},
                 nullptr, &out)
            .ok()) {
      ++acknowledged;
    }
  }
  ASSERT_TRUE(Eventually([&] { return !db_->health().ok(); }))
      << "the flush failed";
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  ASSERT_TRUE(Put("after", "1").ok());
  for (int i = 0; i < acknowledged; ++i) {
    EXPECT_EQ(Get("k" + std::to_string(i)), "1") << i;
  }
  CheckStream();
}

// A reopen that fails (its table file cannot be created) is retried until
// it works; the data is intact afterwards.
TEST_F(FaultRecoveryTest, FailedReopenIsRetried) {
  ASSERT_TRUE(Put("a", "1").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, EIO).OnPath(".log"));
  env_.Inject(
      EnvFault::On(EnvOp::kNewWritableFile, ENOSPC).OnPath(".ldb").Times(3));
  EXPECT_TRUE(Put("b", "1").IsIOError());
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  EXPECT_EQ(env_.Failures(EnvOp::kNewWritableFile), 3u);
  ASSERT_TRUE(Put("c", "1").ok());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "1");
  EXPECT_EQ(CheckStream().records, 3u);
}

// The reopen writes a new manifest and renames it into CURRENT: when that
// rename fails the reopen fails, and is retried until it works.
TEST_F(FaultRecoveryTest, FailedManifestRenameAtReopenIsRetried) {
  ASSERT_TRUE(Put("a", "1").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, EIO).OnPath(".log"));
  env_.Inject(EnvFault::On(EnvOp::kRename, EIO).OnPath("dbtmp").Times(2));
  EXPECT_TRUE(Put("b", "1").IsIOError());
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  EXPECT_EQ(env_.Failures(EnvOp::kRename), 2u);
  ASSERT_TRUE(Put("c", "1").ok());
  EXPECT_EQ(CheckStream().records, 3u);
}

// EIO on reading a table file fails that read only (IOError): writes are
// not stopped, and the same read works once the error is gone.
TEST_F(FaultRecoveryTest, ReadErrorFailsOnlyThatRead) {
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(Put("k" + std::to_string(i), "1").ok());
  }
  db_.reset();
  Open();  // LevelDB turns its log into a table file.
  env_.Inject(EnvFault::On(EnvOp::kRead, EIO).OnPath(".ldb"));
  std::vector<int> failed;
  for (int i = 0; i < 2000; ++i) {
    auto got = T()->Get(Item{{"id", S("k" + std::to_string(i))}});
    if (!got.ok()) {
      EXPECT_TRUE(got.status().IsIOError()) << got.status().ToString();
      failed.push_back(i);
    }
  }
  ASSERT_EQ(failed.size(), 1u) << "the first block read from the file failed";
  EXPECT_EQ(env_.Failures(EnvOp::kRead), 1u);
  EXPECT_TRUE(db_->health().ok());
  EXPECT_EQ(Get("k" + std::to_string(failed[0])), "1");
  ASSERT_TRUE(Put("after", "1").ok());
}

// A transaction whose second record cannot be appended fails after its
// commit point (the intent is stored): the request fails, the store stops
// writes, and the recovery finishes the transaction from its intent — all
// of it, with one record per item — without a restart.
TEST_F(FaultRecoveryTest, TransactionFailingAfterCommitPointIsFinished) {
  std::vector<TransactWriteAction> actions;
  for (const char* id : {"t1", "t2", "t3"}) {
    TransactWriteAction a;
    a.kind = TransactWriteAction::Kind::kPut;
    a.table = T();
    a.item = {{"id", S(id)}, {"v", N("7")}};
    actions.push_back(std::move(a));
  }
  files_.Inject(FileFault::On(FileOp::kWrite, ENOSPC).After(1));
  auto result = db_->TransactWrite(actions);
  EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  for (const char* id : {"t1", "t2", "t3"}) EXPECT_EQ(Get(id), "7") << id;
  EXPECT_EQ(CheckStream().records, 3u);
  ASSERT_TRUE(Eventually([&] { return db_->statistics_exact(); }));
  EXPECT_EQ(T()->Describe().item_count, 3);
}

// The TTL sweeper rides through: while writes fail its deletes fail too
// (the items stay), and once the store has recovered the expired items go,
// each with exactly one REMOVE record.
TEST_F(FaultRecoveryTest, TtlSweeperRidesThrough) {
  db_.reset();
  ttl_interval_ms_ = 5;
  Open();
  ASSERT_TRUE(db_->UpdateTimeToLive("Orders", true, "expires").ok());
  const int64_t soon = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       1;
  for (int i = 0; i < 10; ++i) {
    WriteOutcome out;
    ASSERT_TRUE(T()->Put(Item{{"id", S("e" + std::to_string(i))},
                              {"v", N("1")},
                              {"expires", N(std::to_string(soon))}},
                         nullptr, &out)
                    .ok());
  }
  env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC).OnPath(".log").Forever());
  // Once the items expire the sweeper's deletes hit the full disk.
  ASSERT_TRUE(Eventually([&] { return env_.Failures(EnvOp::kAppend) >= 3; }));
  int present = 0;
  for (int i = 0; i < 10; ++i) present += Get("e" + std::to_string(i)) == "1";
  EXPECT_GE(present, 9) << "at most the first delete went to the stream";
  env_.Clear();
  ASSERT_TRUE(Eventually([&] {
    for (int i = 0; i < 10; ++i) {
      if (!Get("e" + std::to_string(i)).empty()) return false;
    }
    return true;
  })) << "expired items removed after the recovery";
  StreamCheck check = CheckStream();
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(check.changes["e" + std::to_string(i)],
                ::testing::ElementsAre("1", ""));
  }
}

// Closing while the store has not recovered writes nothing back (the
// markers must stay below the unapplied record); the next Open recovers.
TEST_F(FaultRecoveryTest, CloseWhileFailedRecoversAtNextOpen) {
  ASSERT_TRUE(Put("a", "1").ok());
  env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC).OnPath(".log").Forever());
  EXPECT_TRUE(Put("b", "1").IsIOError());
  db_.reset();
  env_.Clear();
  Open();
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "1");
  EXPECT_EQ(CheckStream().records, 2u);
  ASSERT_TRUE(Eventually([&] { return db_->statistics_exact(); }));
  EXPECT_EQ(T()->Describe().item_count, 2);
}

// A damaged table file is found by its block checksum and the error names
// the file and the offset; other items are still read.
TEST_F(FaultRecoveryTest, CorruptTableBlockIsNamedNotSkipped) {
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(Put("k" + std::to_string(i), std::to_string(i)).ok());
  }
  db_.reset();
  Open();  // LevelDB turns its log into a table file.
  db_.reset();
  fs::path table_file;
  for (const auto& e : fs::directory_iterator(dir_ / "leveldb")) {
    if (e.path().extension() == ".ldb" &&
        (table_file.empty() ||
         fs::file_size(e.path()) > fs::file_size(table_file))) {
      table_file = e.path();
    }
  }
  ASSERT_FALSE(table_file.empty());
  {
    std::fstream f(table_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(table_file) / 3));
    f.put('\x5a');
    f.put('\xa5');
  }
  Open();
  int damaged = 0;
  for (int i = 0; i < 2000; ++i) {
    auto got = T()->Get(Item{{"id", S("k" + std::to_string(i))}});
    if (got.ok()) continue;
    ++damaged;
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_THAT(got.status().message(), HasSubstr(table_file.string()));
    EXPECT_THAT(got.status().message(), HasSubstr("at offset"));
  }
  EXPECT_GT(damaged, 0);
  EXPECT_LT(damaged, 2000);
}

// Random faults — log appends cut short, failed log syncs, stream appends
// cut short, stream fsyncs failing, table files that cannot be created —
// during a long run of writes, with and without --sync. After the faults
// stop and the store has recovered: every acknowledged write is there (or
// overwritten by a later write of the same item), the stream is
// consistent with the table and holds one record per change, and the same
// holds after a reopen.
class RandomFaultTest : public FaultRecoveryTest,
                        public ::testing::WithParamInterface<bool> {};

TEST_P(RandomFaultTest, InvariantsHoldUnderRandomFaults) {
  db_.reset();
  options_.sync = GetParam();
  options_.write_buffer_bytes = 256 << 10;
  Open();
  std::mt19937 rng(GetParam() ? 7 : 11);
  // Per item: the last acknowledged value, and values tried after it.
  std::map<std::string, std::string> acknowledged;
  std::map<std::string, std::set<std::string>> unknown;
  int failures = 0;
  for (int i = 0; i < 1500; ++i) {
    const int dice = static_cast<int>(rng() % 200);
    if (dice < 2) {
      env_.Inject(EnvFault::On(EnvOp::kAppend, ENOSPC)
                      .OnPath(".log")
                      .Partial(rng() % 30));
    } else if (dice < 3) {
      env_.Inject(EnvFault::On(EnvOp::kSync, EIO).OnPath(".log"));
    } else if (dice < 5) {
      files_.Inject(FileFault::On(FileOp::kWrite, ENOSPC).Partial(rng() % 30));
    } else if (dice < 6) {
      files_.Inject(FileFault::On(FileOp::kSync, EIO));
    } else if (dice < 7) {
      env_.Inject(EnvFault::On(EnvOp::kNewWritableFile, ENOSPC).OnPath(".ldb"));
    }
    const std::string id = "k" + std::to_string(rng() % 40);
    const std::string v = std::to_string(i);
    WriteOutcome out;
    Status s = T()->Put(Item{{"id", S(id)},
                             {"v", N(v)},
                             {"pad", S(std::string(rng() % 400, 'p'))}},
                        nullptr, &out);
    if (s.ok()) {
      acknowledged[id] = v;
      unknown.erase(id);
    } else {
      ASSERT_TRUE(s.IsIOError()) << s.ToString();
      unknown[id].insert(v);
      ++failures;
      // Mostly wait for the recovery, sometimes write on into the failure.
      if (rng() % 4 != 0) {
        ASSERT_TRUE(Eventually([&] { return db_->health().ok(); }))
            << db_->health().ToString();
      }
    }
  }
  EXPECT_GT(failures, 10);
  env_.Clear();
  files_.Clear();
  ASSERT_TRUE(Recovered()) << db_->health().ToString();
  auto check = [&] {
    for (const auto& [id, v] : acknowledged) {
      const std::string got = Get(id);
      EXPECT_TRUE(got == v || unknown[id].count(got) > 0)
          << id << " is " << got << ", acknowledged " << v;
    }
    CheckStream();
  };
  check();
  // The statistics count what is there.
  ASSERT_TRUE(Eventually([&] { return db_->statistics_exact(); }));
  int64_t present = 0;
  for (int k = 0; k < 40; ++k) present += !Get("k" + std::to_string(k)).empty();
  EXPECT_EQ(T()->Describe().item_count, present);
  db_.reset();
  Open();
  check();
}

INSTANTIATE_TEST_SUITE_P(SyncAndNot, RandomFaultTest, ::testing::Bool());

}  // namespace
}  // namespace eddy::store
