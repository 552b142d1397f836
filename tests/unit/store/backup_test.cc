// Backups, restores and point-in-time recovery in the store: a backup is a
// cut that existed, survives its table, restores with its indexes; a
// restore is never served half done and resumes after a restart; a
// point-in-time restore to T gives exactly the state at T.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "catalog.h"
#include "database_impl.h"
#include "eddy/store/database.h"
#include "eddy/store/expression.h"
#include "eddy/store/item_codec.h"
#include "store_env.h"
#include "store_test_util.h"

namespace eddy::store {
namespace {

using testing::Eventually;
using testing::N;
using testing::S;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_backup_test_");
    Open();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    Database::Options options;
    options.path = dir_.string();
    options.clock_ms = [this] { return now_ms_.load(); };
    options.ttl_sweep_interval_ms = 0;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void Reopen() {
    db_.reset();
    Open();
  }
  DatabaseImpl* impl() { return static_cast<DatabaseImpl*>(db_.get()); }

  // Table T: key (pk S, sk N), a GSI on g (S) projecting everything.
  static TableSchema Schema(const std::string& name) {
    TableSchema schema;
    schema.name = name;
    schema.hash_key = {"pk", ValueType::kS};
    schema.range_key = KeyElement{"sk", ValueType::kN};
    schema.attribute_definitions = {
        {"pk", ValueType::kS}, {"sk", ValueType::kN}, {"g", ValueType::kS}};
    schema.billing_mode = BillingMode::kPayPerRequest;
    IndexSchema gsi;
    gsi.name = "byG";
    gsi.hash_key = {"g", ValueType::kS};
    schema.global_indexes.push_back(gsi);
    return schema;
  }
  // The schema a restore of `source` under `name` gets (what the API layer
  // derives from a backup without overrides).
  static TableSchema Target(const std::string& name) { return Schema(name); }

  static Item MakeItem(int pk, int sk, const std::string& v,
                       std::optional<std::string> g = std::nullopt) {
    Item item{{"pk", S("p" + std::to_string(pk))},
              {"sk", N(std::to_string(sk))},
              {"v", S(v)}};
    if (g) item.emplace("g", S(*g));
    return item;
  }
  static Item KeyOf(const Item& item) {
    return {{"pk", item.at("pk")}, {"sk", item.at("sk")}};
  }

  void Put(const std::string& table, const Item& item) {
    WriteOutcome out;
    ASSERT_TRUE(db_->GetTable(table)->Put(item, nullptr, &out).ok());
  }

  // Every item of `table` (or of its index), by its key text.
  std::map<std::string, Item> Contents(const std::string& table,
                                       const std::string& index = "") {
    std::map<std::string, Item> out;
    std::shared_ptr<Table> t = db_->GetTable(table);
    EXPECT_NE(t, nullptr) << table;
    if (t == nullptr) return out;
    ScanRequest request;
    request.index_name = index;
    for (;;) {
      Result<ReadPage> page = t->Scan(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return out;
      for (const Item& item : page->items) {
        out[item.at("pk").scalar() + "/" + item.at("sk").scalar()] = item;
      }
      if (!page->last_evaluated_key) return out;
      request.exclusive_start_key = page->last_evaluated_key;
    }
  }

  // Waits until `table` is ACTIVE (restored).
  bool WaitActive(const std::string& table) {
    return Eventually([&] {
      std::optional<TableInfo> info = db_->DescribeTable(table);
      return info && info->status == TableStatus::kActive;
    });
  }
  BackupInfo WaitAvailable(const std::string& id) {
    BackupInfo info;
    EXPECT_TRUE(Eventually([&] {
      Result<BackupInfo> b = db_->DescribeBackup(id);
      if (b.ok()) info = *b;
      return b.ok() && b->status == BackupStatus::kAvailable;
    }));
    return info;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
};

// The backup holds the items as they were when it was requested, not the
// writes that follow, and restores them with their index entries.
TEST_F(BackupTest, RestoresTheCutWithItsIndexes) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  for (int i = 0; i < 300; ++i) {
    Put("T", MakeItem(i % 17, i, "v" + std::to_string(i),
                      i % 3 == 0
                          ? std::optional<std::string>("g" + std::to_string(i))
                          : std::nullopt));
  }
  const auto at_cut = Contents("T");
  const auto index_at_cut = Contents("T", "byG");
  Result<BackupInfo> backup = db_->CreateBackup("T", "b1");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->status, BackupStatus::kCreating);
  EXPECT_THAT(backup->id, ::testing::MatchesRegex("[0-9]{14}-[0-9a-f]{8}"));
  // Writes after the cut.
  for (int i = 0; i < 50; ++i) Put("T", MakeItem(1000 + i, i, "later"));
  WriteOutcome out;
  ASSERT_TRUE(db_->GetTable("T")
                  ->Delete(KeyOf(at_cut.begin()->second), nullptr, &out)
                  .ok());

  const BackupInfo done = WaitAvailable(backup->id);
  EXPECT_EQ(done.item_count, 300);
  EXPECT_GT(done.size_bytes, 0);
  EXPECT_EQ(done.name, "b1");

  Result<TableInfo> restored =
      db_->RestoreTableFromBackup(backup->id, Target("R"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->status, TableStatus::kCreating);
  ASSERT_TRUE(WaitActive("R"));
  EXPECT_EQ(Contents("R"), at_cut);
  EXPECT_EQ(Contents("R", "byG"), index_at_cut);
  const TableInfo info = *db_->DescribeTable("R");
  EXPECT_EQ(info.item_count, 300);
  ASSERT_TRUE(info.restore.has_value());
  EXPECT_EQ(info.restore->backup_id, backup->id);
  EXPECT_FALSE(info.restore->in_progress);
  // The restored table takes writes like any other.
  Put("R", MakeItem(1, 1, "new"));
}

// A backup outlives its table and a restart; deleting it removes its files.
TEST_F(BackupTest, SurvivesTableDeletionAndRestart) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  for (int i = 0; i < 10; ++i) Put("T", MakeItem(i, i, "x"));
  const auto at_cut = Contents("T");
  Result<BackupInfo> backup = db_->CreateBackup("T", "keep");
  ASSERT_TRUE(backup.ok());
  WaitAvailable(backup->id);
  ASSERT_TRUE(db_->DeleteTable("T").ok());
  Reopen();
  ASSERT_EQ(db_->ListBackups().size(), 1u);
  EXPECT_EQ(db_->ListBackups()[0].table.schema.name, "T");
  // Restored under the deleted table's own name.
  ASSERT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("T")).ok());
  ASSERT_TRUE(WaitActive("T"));
  EXPECT_EQ(Contents("T"), at_cut);

  Result<BackupInfo> deleted = db_->DeleteBackup(backup->id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->status, BackupStatus::kDeleted);
  EXPECT_TRUE(db_->DescribeBackup(backup->id).status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "backups" / backup->id));
  EXPECT_TRUE(db_->DeleteBackup(backup->id).status().IsNotFound());
}

// Writes go on during a backup, and it holds a state that existed: with
// items written in order, some prefix of them and nothing else.
TEST_F(BackupTest, CutUnderConcurrentWritesIsAStateThatExisted) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !done && i < 200000; ++i) {
      WriteOutcome out;
      if (!db_->GetTable("T")->Put(MakeItem(i, i, "w"), nullptr, &out).ok()) {
        return;
      }
      written = i + 1;
    }
  });
  ASSERT_TRUE(Eventually([&] { return written > 2000; }));
  Result<BackupInfo> backup = db_->CreateBackup("T", "hot");
  ASSERT_TRUE(backup.ok());
  ASSERT_TRUE(Eventually([&] { return written > 4000; }));
  done = true;
  writer.join();
  WaitAvailable(backup->id);
  ASSERT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("R")).ok());
  ASSERT_TRUE(WaitActive("R"));
  const auto restored = Contents("R");
  const int n = static_cast<int>(restored.size());
  EXPECT_GE(n, 2000);
  EXPECT_LT(n, written.load());
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(restored.count("p" + std::to_string(i) + "/" + std::to_string(i)),
              1u)
        << "item " << i << " missing from a cut of " << n << " items";
  }
}

// A restore's target name must be free, and a CREATING backup can be
// neither restored nor deleted; an unknown backup is NotFound.
TEST_F(BackupTest, BadRequests) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  ASSERT_TRUE(db_->CreateTable(Schema("Taken")).ok());
  Result<BackupInfo> backup = db_->CreateBackup("T", "b");
  ASSERT_TRUE(backup.ok());
  WaitAvailable(backup->id);
  EXPECT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("Taken"))
                  .status()
                  .IsAlreadyExists());
  EXPECT_TRUE(
      db_->RestoreTableFromBackup("01700000000000-deadbeef", Target("X"))
          .status()
          .IsNotFound());
  EXPECT_TRUE(db_->CreateBackup("Missing", "b").status().IsNotFound());
  EXPECT_TRUE(db_->DescribeTable("X") == std::nullopt);
}

// A restore cut short by a shutdown is finished by the next Open; until
// then the table is CREATING, listed, and not served.
TEST_F(BackupTest, InterruptedRestoreResumesAtOpen) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  for (int i = 0; i < 100; ++i) Put("T", MakeItem(i, i, "x"));
  const auto at_cut = Contents("T");
  Result<BackupInfo> backup = db_->CreateBackup("T", "b");
  ASSERT_TRUE(backup.ok());
  WaitAvailable(backup->id);
  impl()->TEST_HoldJobs(true);
  ASSERT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("R")).ok());
  EXPECT_EQ(db_->GetTable("R"), nullptr);
  EXPECT_EQ(db_->DescribeTable("R")->status, TableStatus::kCreating);
  EXPECT_THAT(db_->ListTables(std::nullopt, 10),
              ::testing::ElementsAre("R", "T"));
  EXPECT_TRUE(db_->CreateTable(Schema("R")).status().IsAlreadyExists());
  Reopen();
  ASSERT_TRUE(WaitActive("R"));
  EXPECT_EQ(Contents("R"), at_cut);
}

// A restore whose source is gone fails with the reason logged and leaves
// no table behind.
TEST_F(BackupTest, RestoreOfDamagedBackupRemovesTheTable) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  for (int i = 0; i < 10; ++i) Put("T", MakeItem(i, i, "x"));
  Result<BackupInfo> backup = db_->CreateBackup("T", "b");
  ASSERT_TRUE(backup.ok());
  WaitAvailable(backup->id);
  // Damage: one byte of the items file changed.
  const auto items = dir_ / "backups" / backup->id / "items";
  {
    std::fstream f(items, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x5a');
  }
  ASSERT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("R")).ok());
  ASSERT_TRUE(Eventually([&] { return !db_->DescribeTable("R"); }));
  EXPECT_EQ(db_->GetTable("R"), nullptr);
}

// The property of point-in-time recovery: random puts, updates, deletes
// and transactions, each at a known commit time; restoring to any T in the
// window gives exactly the items (and index entries) there were at T.
TEST_F(BackupTest, PointInTimeRestoreEqualsStateAtEveryTime) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  std::mt19937_64 rng(20261201);
  // Writes before recovery is enabled are in the base state.
  for (int i = 0; i < 40; ++i) Put("T", MakeItem(i % 8, i, "base"));
  now_ms_ += 5;
  Result<ContinuousBackups> enabled = db_->UpdateContinuousBackups("T", true);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  EXPECT_TRUE(enabled->enabled);
  const int64_t t0 = now_ms_;
  std::map<int64_t, std::map<std::string, Item>> states;  // time -> state
  states[t0] = Contents("T");

  std::shared_ptr<Table> table = db_->GetTable("T");
  const AttributeMap one{{":one", N("1")}, {":g", S("gx")}};
  ExpressionContext ectx(nullptr, &one);
  auto update = Update::Parse("SET g = :g ADD n :one", &ectx);
  ASSERT_TRUE(update.ok());
  auto random_key = [&] {
    return MakeItem(int(rng() % 8), int(rng() % 60), "");
  };
  for (int op = 0; op < 600; ++op) {
    // Several writes may share a millisecond.
    now_ms_ += static_cast<int64_t>(rng() % 3);
    WriteOutcome out;
    switch (rng() % 5) {
      case 0:
      case 1: {
        Item item = random_key();
        item["v"] = S(std::to_string(op));
        if (rng() % 2) item["g"] = S("g" + std::to_string(rng() % 5));
        ASSERT_TRUE(table->Put(item, nullptr, &out).ok());
        break;
      }
      case 2:
        ASSERT_TRUE(
            table->UpdateItem(KeyOf(random_key()), update->get(), nullptr, &out)
                .ok());
        break;
      case 3:
        ASSERT_TRUE(table->Delete(KeyOf(random_key()), nullptr, &out).ok());
        break;
      case 4: {
        std::vector<TransactWriteAction> actions;
        std::set<std::string> keys;
        for (int k = 0; k < 3; ++k) {
          TransactWriteAction a;
          a.table = table;
          Item item = random_key();
          const std::string key =
              item["pk"].scalar() + "/" + item["sk"].scalar();
          if (!keys.insert(key).second) continue;
          if (rng() % 3 == 0) {
            a.kind = TransactWriteAction::Kind::kDelete;
            a.item = KeyOf(item);
          } else {
            a.kind = TransactWriteAction::Kind::kPut;
            item["v"] = S("tx" + std::to_string(op));
            a.item = item;
          }
          actions.push_back(std::move(a));
        }
        Result<TransactWriteResult> r = db_->TransactWrite(actions);
        ASSERT_TRUE(r.ok() && r->committed);
        break;
      }
    }
    states[now_ms_] = Contents("T");
  }
  // Restore to times picked across the window, including ones between
  // writes and the window's edges.
  std::vector<int64_t> times = {t0, now_ms_.load()};
  for (int i = 0; i < 10; ++i) {
    times.push_back(t0 + static_cast<int64_t>(rng() % (now_ms_ - t0 + 1)));
  }
  for (size_t i = 0; i < times.size(); ++i) {
    const int64_t t = times[i];
    const std::string name = "R" + std::to_string(i);
    Result<TableInfo> r = db_->RestoreTableToPointInTime("T", t, Target(name));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(WaitActive(name));
    // The state at t: after the last write at or before t.
    const auto& expected = std::prev(states.upper_bound(t))->second;
    ASSERT_EQ(Contents(name), expected) << "restored to " << t - t0;
    std::map<std::string, Item> index;
    for (const auto& [key, item] : expected) {
      if (item.count("g") != 0) index[key] = item;
    }
    ASSERT_EQ(Contents(name, "byG"), index) << "index at " << t - t0;
    ASSERT_EQ(db_->DescribeTable(name)->item_count,
              static_cast<int64_t>(expected.size()));
    // An export reads the same state.
    std::map<std::string, Item> read;
    std::atomic<bool> stop{false};
    ASSERT_TRUE(
        db_->ReadTableAt(
               "T", t,
               [&](std::string_view encoded) {
                 Result<Item> item = DecodeItem(encoded);
                 EXPECT_TRUE(item.ok());
                 read[item->at("pk").scalar() + "/" + item->at("sk").scalar()] =
                     *item;
                 return Status::OK();
               },
               stop)
            .ok());
    ASSERT_EQ(read, expected) << "read at " << t - t0;
  }
  // Outside the window.
  EXPECT_TRUE(db_->RestoreTableToPointInTime("T", t0 - 1, Target("Early"))
                  .status()
                  .IsOutOfRange());
  EXPECT_TRUE(
      db_->RestoreTableToPointInTime("T", now_ms_ + 1000, Target("Late"))
          .status()
          .IsOutOfRange());
}

// An import's table is CREATING (described, never served) while its
// importer fills it, stays so across a restart (the store does not resume
// it), and is ACTIVE with exact counts after FinishImportTable, or gone
// after AbandonImportTable.
TEST_F(BackupTest, ImportTableIsServedOnlyOnceFinished) {
  ASSERT_TRUE(db_->CreateImportTable(Schema("I"), "imp-1").ok());
  EXPECT_TRUE(
      db_->CreateImportTable(Schema("I"), "imp-2").status().IsAlreadyExists());
  EXPECT_EQ(db_->GetTable("I"), nullptr);
  EXPECT_EQ(db_->DescribeTable("I")->status, TableStatus::kCreating);
  std::shared_ptr<Table> t = db_->GetImportTable("I");
  ASSERT_NE(t, nullptr);
  WriteOutcome out;
  ASSERT_TRUE(t->Put(MakeItem(1, 1, "a", "g1"), nullptr, &out).ok());
  Reopen();
  EXPECT_EQ(db_->GetTable("I"), nullptr);
  EXPECT_EQ(db_->DescribeTable("I")->status, TableStatus::kCreating);
  ASSERT_TRUE(db_->ResetImportTable("I").ok());
  t = db_->GetImportTable("I");
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Put(MakeItem(2, 2, "b", "g2"), nullptr, &out).ok());
  ASSERT_TRUE(t->Put(MakeItem(3, 3, "c"), nullptr, &out).ok());
  ASSERT_TRUE(db_->FinishImportTable("I").ok());
  ASSERT_NE(db_->GetTable("I"), nullptr);
  EXPECT_EQ(Contents("I").size(), 2u);  // The reset emptied it.
  EXPECT_EQ(Contents("I", "byG").size(), 1u);
  EXPECT_EQ(db_->DescribeTable("I")->item_count, 2);
  EXPECT_EQ(db_->DescribeTable("I")->restore->import_id, "imp-1");

  ASSERT_TRUE(db_->CreateImportTable(Schema("J"), "imp-3").ok());
  ASSERT_TRUE(db_->AbandonImportTable("J", "bad source").ok());
  EXPECT_FALSE(db_->DescribeTable("J").has_value());
  EXPECT_TRUE(db_->FinishImportTable("J").IsNotFound());
  // Once finished, it is a table like any other.
  EXPECT_EQ(db_->GetImportTable("I"), nullptr);
  EXPECT_TRUE(db_->ResetImportTable("I").IsNotFound());
}

// A snapshot taken while a writer puts items one after another holds a
// prefix of them (a cut), and opens as a data directory with its stream,
// its backup and exact counts.
TEST_F(BackupTest, SnapshotUnderWritesIsACutThatOpens) {
  TableSchema schema = Schema("T");
  schema.stream_view_type = StreamViewType::kNewImage;
  ASSERT_TRUE(db_->CreateTable(schema).ok());
  for (int i = 0; i < 100; ++i) Put("T", MakeItem(0, i, "base", "g"));
  Result<BackupInfo> backup = db_->CreateBackup("T", "b");
  ASSERT_TRUE(backup.ok());
  WaitAvailable(backup->id);
  std::atomic<bool> running{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::shared_ptr<Table> t = db_->GetTable("T");
    for (int i = 0; running; ++i) {
      WriteOutcome out;
      ASSERT_TRUE(t->Put(MakeItem(1, i, "w", "g"), nullptr, &out).ok());
      written = i + 1;
    }
  });
  ASSERT_TRUE(Eventually([&] { return written >= 50; }));
  // Removed files waiting to be unlinked (store_env.h) are not copied: a
  // directory in the trash stays there (the Env unlinks files only).
  const std::filesystem::path trash = dir_ / "leveldb" / kTrashDirName;
  std::filesystem::create_directories(trash / "kept");
  std::ofstream(trash / "kept" / "000001.ldb") << "not data";
  const std::filesystem::path copy = dir_.string() + "-copy";
  Database::SnapshotProgress progress;
  Status s = db_->Snapshot(copy.string(), &progress);
  const int after = written;
  ASSERT_TRUE(Eventually([&] { return written >= after + 20; }));
  running = false;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(progress.files_copied, progress.files_total);
  EXPECT_EQ(progress.bytes_copied, progress.bytes_total);
  EXPECT_FALSE(std::filesystem::exists(copy / "SNAPSHOT-INCOMPLETE"));
  EXPECT_FALSE(std::filesystem::exists(copy / "leveldb" / kTrashDirName));

  db_.reset();
  const std::filesystem::path original = dir_;
  dir_ = copy;
  Open();
  std::map<std::string, Item> items = Contents("T");
  int n = 0;
  while (items.count("p1/" + std::to_string(n)) != 0) ++n;
  EXPECT_GE(n, 50);
  EXPECT_LT(n, written.load());
  EXPECT_EQ(items.size(), 100u + static_cast<size_t>(n));  // No holes.
  EXPECT_EQ(Contents("T", "byG").size(), items.size());
  EXPECT_TRUE(Eventually([&] { return db_->statistics_exact(); }));
  EXPECT_EQ(db_->DescribeTable("T")->item_count,
            static_cast<int64_t>(items.size()));
  EXPECT_EQ(db_->ListStreams("T").size(), 1u);
  Result<BackupInfo> copied = db_->DescribeBackup(backup->id);
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->status, BackupStatus::kAvailable);
  ASSERT_TRUE(db_->RestoreTableFromBackup(backup->id, Target("R")).ok());
  ASSERT_TRUE(WaitActive("R"));
  EXPECT_EQ(Contents("R").size(), 100u);
  db_.reset();
  std::filesystem::remove_all(copy);
  dir_ = original;
  Open();
}

// A target inside the data directory or not empty is refused; a snapshot
// a restart interrupted is removed at the next Open.
TEST_F(BackupTest, SnapshotTargetsAndInterruptedSnapshots) {
  Database::SnapshotProgress progress;
  EXPECT_TRUE(
      db_->Snapshot((dir_ / "inside").string(), &progress).IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "inside"));
  const std::filesystem::path full = dir_.string() + "-full";
  std::filesystem::create_directories(full);
  std::ofstream(full / "keep") << "mine";
  EXPECT_TRUE(db_->Snapshot(full.string(), &progress).IsInvalidArgument());
  EXPECT_TRUE(std::filesystem::exists(full / "keep"));
  std::filesystem::remove_all(full);

  const std::filesystem::path partial = dir_.string() + "-partial";
  std::filesystem::create_directories(partial / "leveldb");
  std::ofstream(partial / "SNAPSHOT-INCOMPLETE") << "x";
  std::filesystem::create_directories(dir_ / ".snapshot-1-2");
  std::ofstream(dir_ / ".snapshot-1-2" / "TARGET") << partial.string() << "\n";
  Reopen();
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".snapshot-1-2"));
}

// Without recovery enabled there is nothing to restore; disabling drops
// the window.
TEST_F(BackupTest, PointInTimeNeedsRecoveryEnabled) {
  ASSERT_TRUE(db_->CreateTable(Schema("T")).ok());
  EXPECT_TRUE(db_->RestoreTableToPointInTime("T", now_ms_, Target("R"))
                  .status()
                  .IsInvalidArgument());
  Result<ContinuousBackups> off = db_->DescribeContinuousBackups("T");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
  ASSERT_TRUE(db_->UpdateContinuousBackups("T", true).ok());
  now_ms_ += 1000;
  Result<ContinuousBackups> on = db_->DescribeContinuousBackups("T");
  EXPECT_TRUE(on->enabled);
  EXPECT_EQ(on->latest_ms - on->earliest_ms, 1000);
  ASSERT_TRUE(db_->UpdateContinuousBackups("T", false).ok());
  EXPECT_FALSE(db_->DescribeContinuousBackups("T")->enabled);
  EXPECT_TRUE(db_->DescribeContinuousBackups("Missing").status().IsNotFound());
  std::atomic<bool> stop{false};
  auto visit = [](std::string_view) { return Status::OK(); };
  EXPECT_TRUE(db_->ReadTableAt("T", now_ms_, visit, stop).IsInvalidArgument());
  EXPECT_TRUE(db_->ReadTableAt("Missing", now_ms_, visit, stop).IsNotFound());
}

}  // namespace
}  // namespace eddy::store
