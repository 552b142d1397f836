// The store's LevelDB Env (store/src/store_env.h): with pread_tables, table
// files are read with pread into LevelDB's buffers and never mapped, and
// every key reads back as written.
#include "store_env.h"

#include <gtest/gtest.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/options.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

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
        NewStoreEnv(leveldb::Env::Default(), pread_tables);
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
      NewStoreEnv(leveldb::Env::Default(), /*pread_tables=*/true);
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
      NewStoreEnv(leveldb::Env::Default(), /*pread_tables=*/true);
  leveldb::RandomAccessFile* raw = nullptr;
  ASSERT_TRUE(env->NewRandomAccessFile(name, &raw).ok());
  std::unique_ptr<leveldb::RandomAccessFile> file(raw);
  char scratch[16];
  leveldb::Slice result;
  ASSERT_TRUE(file->Read(4, sizeof(scratch), &result, scratch).ok());
  EXPECT_EQ(result.ToString(), "456789");
}

}  // namespace
}  // namespace eddy::store
