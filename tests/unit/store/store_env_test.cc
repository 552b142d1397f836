// The store's LevelDB Env (store/src/store_env.h): with pread_tables, table
// files are read with pread into LevelDB's buffers and never mapped, and
// every key reads back as written.
#include "store_env.h"

#include <gtest/gtest.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/options.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "store_test_util.h"

namespace eddy::store {
namespace {

constexpr int kKeys = 20000;

std::string Key(int i) { return "key" + std::to_string(i); }
std::string Value(int i) {
  std::string value(300, 'a');
  for (size_t k = 0; k < value.size(); ++k) {
    value[k] = static_cast<char>('a' + (i * 31 + k * 7) % 26);
  }
  return value;
}

// Lines of /proc/self/maps that map a file under `dir`.
int MappedFilesUnder(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir) != std::string::npos) ++count;
  }
  return count;
}

class StoreEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_store_env_");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes kKeys keys into table files, reopens, reads every key back and
  // returns how many mappings of the database's files the reads left.
  int WriteReadBack(bool pread_tables) {
    std::unique_ptr<leveldb::Env> env =
        NewStoreEnv(leveldb::Env::Default(), {.pread_tables = pread_tables});
    std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(1 << 20));
    leveldb::Options options;
    options.create_if_missing = true;
    options.env = env.get();
    options.block_cache = cache.get();
    options.write_buffer_size = 256 * 1024;  // Several table files.
    const std::string path = (dir_ / "db").string();
    {
      leveldb::DB* raw = nullptr;
      leveldb::Status s = leveldb::DB::Open(options, path, &raw);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) return -1;
      std::unique_ptr<leveldb::DB> db(raw);
      for (int i = 0; i < kKeys; ++i) {
        EXPECT_TRUE(db->Put(leveldb::WriteOptions(), Key(i), Value(i)).ok());
      }
      db->CompactRange(nullptr, nullptr);
    }
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, path, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return -1;
    std::unique_ptr<leveldb::DB> db(raw);
    leveldb::ReadOptions read;
    read.verify_checksums = true;
    for (int i = 0; i < kKeys; ++i) {
      std::string value;
      leveldb::Status s = db->Get(read, Key(i), &value);
      EXPECT_TRUE(s.ok()) << Key(i) << ": " << s.ToString();
      EXPECT_EQ(value, Value(i)) << Key(i);
    }
    return MappedFilesUnder(path);
  }

  std::filesystem::path dir_;
};

TEST_F(StoreEnvTest, PreadTablesReadBackWithoutMappingTableFiles) {
  EXPECT_EQ(WriteReadBack(/*pread_tables=*/true), 0);
}

TEST_F(StoreEnvTest, BaseEnvMapsTableFiles) {
  // LevelDB's default Env maps the table files it reads (on 64-bit): what
  // pread_tables avoids, and what makes the test above able to fail.
  EXPECT_GT(WriteReadBack(/*pread_tables=*/false), 0);
}

TEST_F(StoreEnvTest, PreadTablesMissingFileIsNotFound) {
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.pread_tables = true});
  leveldb::RandomAccessFile* file = nullptr;
  leveldb::Status s =
      env->NewRandomAccessFile((dir_ / "000001.ldb").string(), &file);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(file, nullptr);
}

TEST_F(StoreEnvTest, PreadTablesReadPastEndIsShort) {
  const std::string name = (dir_ / "000002.ldb").string();
  std::ofstream(name) << "0123456789";
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.pread_tables = true});
  leveldb::RandomAccessFile* raw = nullptr;
  ASSERT_TRUE(env->NewRandomAccessFile(name, &raw).ok());
  std::unique_ptr<leveldb::RandomAccessFile> file(raw);
  char scratch[16];
  leveldb::Slice result;
  ASSERT_TRUE(file->Read(4, sizeof(scratch), &result, scratch).ok());
  EXPECT_EQ(result.ToString(), "456789");
}

// A damaged block is found by the Env's own check, with LevelDB's off, on
// either read path (pread, and the base Env's files as tests inject
// faults through), and named; the other blocks still read.
class StoreEnvChecksumTest : public StoreEnvTest,
                             public ::testing::WithParamInterface<bool> {};

TEST_P(StoreEnvChecksumTest, DamagedBlockIsCorruptionNamingTheFile) {
  const bool pread_tables = GetParam();
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.pread_tables = pread_tables});
  leveldb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  options.paranoid_checks = true;  // As the store: LevelDB checks at open.
  const std::string path = (dir_ / "db").string();
  {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, path, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(db->Put(leveldb::WriteOptions(), Key(i), Value(i)).ok());
    }
    db->CompactRange(nullptr, nullptr);
  }
  std::filesystem::path table;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() == ".ldb" &&
        (table.empty() || e.file_size() > std::filesystem::file_size(table))) {
      table = e.path();
    }
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(table) / 4));
    f.put('\x5a');
  }
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  leveldb::ReadOptions read;
  read.verify_checksums = false;  // The store's reads (DbHandle).
  int damaged = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string value;
    leveldb::Status s = db->Get(read, Key(i), &value);
    if (s.ok()) {
      EXPECT_EQ(value, Value(i));
      continue;
    }
    ++damaged;
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("block checksum mismatch"), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.ToString().find(table.string() + " at offset "),
              std::string::npos)
        << s.ToString();
  }
  EXPECT_GT(damaged, 0);
  EXPECT_LT(damaged, kKeys);
}

INSTANTIATE_TEST_SUITE_P(ReadPaths, StoreEnvChecksumTest, ::testing::Bool());

std::vector<std::string> Names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(StoreEnvTest, DeferredRemovalLeavesTheDirectoryAtOnce) {
  const std::filesystem::path file = dir_ / "000003.ldb";
  std::ofstream(file) << std::string(1 << 20, 'x');
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.defer_removals = true});
  ASSERT_TRUE(env->RemoveFile(file.string()).ok());
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(env->FileExists(file.string()));
  env.reset();  // Finishes the unlinks.
  EXPECT_EQ(Names(dir_), std::vector<std::string>{kTrashDirName});
  EXPECT_TRUE(Names(dir_ / kTrashDirName).empty());
}

TEST_F(StoreEnvTest, DeferredRemovalUnlinksWhatAnEarlierProcessLeft) {
  const std::filesystem::path trash = dir_ / kTrashDirName;
  std::filesystem::create_directories(trash);
  std::ofstream(trash / "000007.ldb") << "left by a crash";
  std::ofstream(trash / "000008.log") << "left by a crash";
  std::ofstream(dir_ / "000009.ldb") << "obsolete";
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.defer_removals = true});
  ASSERT_TRUE(env->RemoveFile((dir_ / "000009.ldb").string()).ok());
  env.reset();
  EXPECT_TRUE(Names(trash).empty());
}

TEST_F(StoreEnvTest, DeferredRemovalFallsBackToUnlinking) {
  // A regular file where the trash directory would go: no rename possible.
  std::ofstream(dir_ / kTrashDirName) << "in the way";
  std::ofstream(dir_ / "000004.ldb") << "obsolete";
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.defer_removals = true});
  ASSERT_TRUE(env->RemoveFile((dir_ / "000004.ldb").string()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "000004.ldb"));
  EXPECT_TRUE(env->RemoveFile((dir_ / "000005.ldb").string()).IsNotFound());
  env.reset();
  EXPECT_EQ(Names(dir_), std::vector<std::string>{kTrashDirName});
}

TEST_F(StoreEnvTest, DeferredRemovalUnderLevelDb) {
  // Compactions remove their inputs and reopening removes the old log:
  // every removal goes through the trash, LevelDB opens what stays, and
  // nothing is left once the Env is gone.
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(), {.defer_removals = true});
  leveldb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  options.write_buffer_size = 64 * 1024;
  const std::string path = (dir_ / "db").string();
  for (int round = 0; round < 2; ++round) {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, path, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    for (int i = 0; i < 20000; ++i) {
      ASSERT_TRUE(db->Put(leveldb::WriteOptions(), "key" + std::to_string(i),
                          std::string(100, static_cast<char>('a' + round)))
                      .ok());
    }
    db->CompactRange(nullptr, nullptr);
    std::string value;
    ASSERT_TRUE(db->Get(leveldb::ReadOptions(), "key19999", &value).ok());
    EXPECT_EQ(value, std::string(100, static_cast<char>('a' + round)));
  }
  env.reset();
  EXPECT_TRUE(Names(dir_ / "db" / kTrashDirName).empty());
  // Only what the last version references, plus LevelDB's bookkeeping.
  int tables = 0;
  for (const std::string& name : Names(dir_ / "db")) {
    if (name.ends_with(".ldb")) ++tables;
  }
  EXPECT_GE(tables, 1);
  EXPECT_LE(tables, 3);
}

}  // namespace
}  // namespace eddy::store
