// What LevelDB keeps in memory for an open table, and its charge to the
// block cache (store/src/table_memory.h): the figure is the heap LevelDB's
// Table::Open really keeps, the charge lasts as long as the file is open,
// and a store whose tables outgrow the block cache says so.
#include "table_memory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <malloc.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "eddy/store/database.h"
#include "fault_injection_env.h"
#include "store_env.h"
#include "store_test_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDDY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EDDY_ASAN 1
#endif
#ifdef EDDY_ASAN
// ASan's allocator (sanitizer/allocator_interface.h, which GCC does not
// install): mallinfo2 does not see it.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace eddy::store {
namespace {

constexpr int kKeys = 30000;

std::string Key(int i) { return "key" + std::to_string(1000000 + i); }
// 200 bytes that do not compress, as an item's payload rarely does much.
std::string Value(int i) {
  std::mt19937 random(i);
  std::string value(200, 'a');
  for (char& c : value) c = static_cast<char>('a' + random() % 26);
  return value;
}

// Bytes the process has allocated and not freed.
size_t HeapInUse() {
#ifdef EDDY_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// A table file as the store reads it: by pread into LevelDB's buffers
// (LevelDB's default Env maps it, and blocks then stay in the mapping).
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  explicit PreadFile(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    EXPECT_GE(fd_, 0) << path;
  }
  ~PreadFile() override { ::close(fd_); }
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    const ssize_t got = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
    if (got < 0) return leveldb::Status::IOError("pread");
    *result = leveldb::Slice(scratch, static_cast<size_t>(got));
    return leveldb::Status::OK();
  }

 private:
  const int fd_;
};

std::unique_ptr<leveldb::RandomAccessFile> OpenFile(const std::string& path) {
  return std::make_unique<PreadFile>(path);
}

// The figure for a table file, expecting every read to succeed.
std::optional<uint64_t> Figure(const leveldb::RandomAccessFile& file,
                               uint64_t size) {
  std::optional<uint64_t> bytes;
  leveldb::Status s = OpenTableHeapBytes(file, size, &bytes);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return bytes;
}

std::vector<std::string> TableFiles(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".ldb") out.push_back(entry.path());
  }
  return out;
}

class TableMemoryTest
    : public ::testing::TestWithParam<leveldb::CompressionType> {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("eddy_table_memory_");
    std::filesystem::create_directories(dir_);
    filter_.reset(leveldb::NewBloomFilterPolicy(10));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes kKeys keys into a database at `path` of several table files.
  void Fill(const std::string& path, leveldb::Env* env) {
    leveldb::Options options = Options(env);
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, path, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<leveldb::DB> db(raw);
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(db->Put(leveldb::WriteOptions(), Key(i), Value(i)).ok());
    }
    db->CompactRange(nullptr, nullptr);
  }

  leveldb::Options Options(leveldb::Env* env) {
    leveldb::Options options;
    options.env = env;
    options.filter_policy = filter_.get();
    options.compression = GetParam();
    options.write_buffer_size = 512 * 1024;
    options.max_file_size = 1024 * 1024;  // Several table files.
    return options;
  }

  std::filesystem::path dir_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
};

// The bytes computed from a table's footer are what the heap holds more
// once LevelDB has opened the table: its index and filter blocks, plus
// LevelDB's few hundred bytes of bookkeeping.
TEST_P(TableMemoryTest, FigureIsTheHeapLevelDbKeepsForAnOpenTable) {
  Fill(dir_ / "db", leveldb::Env::Default());
  const std::vector<std::string> tables = TableFiles(dir_ / "db");
  ASSERT_GE(tables.size(), 3u);
  for (const std::string& path : tables) {
    const uint64_t size = std::filesystem::file_size(path);
    std::unique_ptr<leveldb::RandomAccessFile> file = OpenFile(path);
    std::optional<uint64_t> bytes = Figure(*file, size);
    ASSERT_TRUE(bytes.has_value()) << path;
    // An index entry per 4 KB block, ten bits per key: a table of 1 MB
    // keeps kilobytes, not bytes and not its size.
    EXPECT_GT(*bytes, size / 500) << path;
    EXPECT_LT(*bytes, size / 20) << path;

    leveldb::Options options = Options(leveldb::Env::Default());
    const size_t before = HeapInUse();
    leveldb::Table* table = nullptr;
    leveldb::Status s = leveldb::Table::Open(options, file.get(), size, &table);
    const size_t kept = HeapInUse() - before;
    ASSERT_TRUE(s.ok()) << s.ToString();
    delete table;
    EXPECT_GE(kept, *bytes) << path;
    EXPECT_LE(kept, *bytes + 1024) << path;
  }
}

TEST_P(TableMemoryTest, NoFigureForWhatIsNoTable) {
  const std::string path = dir_ / "not_a_table";
  {
    std::ofstream out(path);
    out << std::string(100, 'x');
  }
  EXPECT_FALSE(Figure(*OpenFile(path), 100).has_value());
  EXPECT_FALSE(Figure(*OpenFile(path), 10).has_value());

  // A real table cut short: its footer is gone.
  Fill(dir_ / "db", leveldb::Env::Default());
  const std::string table = TableFiles(dir_ / "db").front();
  const uint64_t size = std::filesystem::file_size(table);
  EXPECT_FALSE(Figure(*OpenFile(table), size - 1).has_value());
  // And one whose handles point past its end.
  std::filesystem::resize_file(table, size / 2);
  EXPECT_FALSE(Figure(*OpenFile(table), size).has_value());
}

// Through the store's Env, every table LevelDB opens is charged while it is
// open, and only then: after a reopen and a read of every key, the charge
// is the sum of the open tables' figures; closed, nothing.
TEST_P(TableMemoryTest, StoreEnvChargesOpenTablesUntilTheyClose) {
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(8 << 20));
  TableMemoryAccount account;
  account.cache = cache.get();
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(leveldb::Env::Default(),
                  {.pread_tables = true, .charge_tables = &account});
  const std::string path = dir_ / "db";
  Fill(path, env.get());
  EXPECT_EQ(account.bytes.load(), 0u);  // Closed with its database.

  uint64_t expected = 0;
  for (const std::string& table : TableFiles(path)) {
    expected += *Figure(*OpenFile(table), std::filesystem::file_size(table));
  }
  leveldb::Options options = Options(env.get());
  options.block_cache = cache.get();
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  for (int i = 0; i < kKeys; ++i) {
    std::string value;
    ASSERT_TRUE(db->Get(leveldb::ReadOptions(), Key(i), &value).ok());
    ASSERT_EQ(value, Value(i));
  }
  EXPECT_EQ(account.bytes.load(), expected);
  // The data blocks read and the charge share the cache.
  const size_t charged = cache->TotalCharge();
  EXPECT_GE(charged, expected);
  db.reset();
  EXPECT_EQ(account.bytes.load(), 0u);
  EXPECT_EQ(cache->TotalCharge(), charged - expected);  // The blocks stay.
}

// A read of a table's figure that fails (EIO, once) fails LevelDB's open
// of the table and the request that needed it; LevelDB keeps no failed
// open, so the next read opens the table again and charges it: no table
// ends up open and uncharged.
TEST_P(TableMemoryTest, ATableWhoseFigureCannotBeReadIsChargedWhenOpened) {
  const std::string path = dir_ / "db";
  Fill(path, leveldb::Env::Default());
  uint64_t expected = 0;
  for (const std::string& table : TableFiles(path)) {
    expected += *Figure(*OpenFile(table), std::filesystem::file_size(table));
  }
  testing::FaultInjectionEnv faults;
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(8 << 20));
  TableMemoryAccount account;
  account.cache = cache.get();
  // The store's Env over the faults: tables read through the target Env.
  std::unique_ptr<leveldb::Env> env =
      NewStoreEnv(&faults, {.pread_tables = false, .charge_tables = &account});
  leveldb::Options options = Options(env.get());
  options.block_cache = cache.get();
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  // The first read of a table file: the figure's footer.
  faults.Inject(testing::FaultInjectionEnv::Fault::On(
                    testing::FaultInjectionEnv::Op::kRead)
                    .OnPath(".ldb"));
  int failed = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string value;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), Key(i), &value);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      ++failed;
      s = db->Get(leveldb::ReadOptions(), Key(i), &value);
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(value, Value(i));
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(faults.Failures(testing::FaultInjectionEnv::Op::kRead), 1u);
  EXPECT_EQ(account.bytes.load(), expected);
}

INSTANTIATE_TEST_SUITE_P(Compression, TableMemoryTest,
                         ::testing::Values(leveldb::kSnappyCompression,
                                           leveldb::kNoCompression));

// A reservation takes its share of the cache from the blocks in it: they
// are evicted to make room, and new ones fit only in what is left; given
// back, the cache holds as many as before.
TEST(CacheReservationTest, EvictsCachedBlocksAndGivesTheRoomBack) {
  constexpr size_t kCapacity = 16 << 20;
  constexpr size_t kBlock = 4096;
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(kCapacity));
  TableMemoryAccount account;
  account.cache = cache.get();
  int block = 0;
  auto fill = [&] {
    for (size_t i = 0; i < 2 * kCapacity / kBlock; ++i, ++block) {
      const std::string key = "block" + std::to_string(block);
      cache->Release(cache->Insert(key, nullptr, kBlock,
                                   [](const leveldb::Slice&, void*) {}));
    }
  };
  auto blocks = [&] { return cache->TotalCharge() - account.bytes.load(); };
  fill();
  EXPECT_GT(blocks(), kCapacity * 9 / 10);

  {
    CacheReservation reservation(&account, kCapacity * 3 / 4);
    EXPECT_EQ(account.bytes.load(), kCapacity * 3 / 4);
    fill();
    // The cache's 16 shards each keep what is left of their share (the
    // placeholders spread over them as unevenly as any keys).
    EXPECT_LT(blocks(), kCapacity / 3);
    EXPECT_LE(cache->TotalCharge(), kCapacity + 16 * kBlock);
  }
  EXPECT_EQ(account.bytes.load(), 0u);
  fill();
  EXPECT_GT(blocks(), kCapacity * 9 / 10);

  // Two reservations of one account add up and go separately.
  auto a = std::make_unique<CacheReservation>(&account, 100000);
  CacheReservation b(&account, 1);
  EXPECT_EQ(account.bytes.load(), 100001u);
  a.reset();
  EXPECT_EQ(account.bytes.load(), 1u);
}

// A store whose open tables' index and filter blocks outgrow its block
// cache says so (its memory then grows with the table).
TEST(TableMemoryDatabaseTest, WarnsWhenTablesOutgrowTheBlockCache) {
  const std::filesystem::path dir = testing::FreshTestDir("eddy_table_mem_db_");
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = std::make_shared<spdlog::logger>("store", sink);
  Database::Options options;
  options.path = dir.string();
  options.logger = logger;
  options.block_cache_bytes = 16 * 1024;
  options.write_buffer_bytes = 64 * 1024;
  options.maintenance_interval_ms = 20;
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  TableSchema schema;
  schema.name = "Items";
  schema.hash_key = {"id", ValueType::kS};
  schema.attribute_definitions = {{"id", ValueType::kS}};
  schema.billing_mode = BillingMode::kPayPerRequest;
  ASSERT_TRUE((*db)->CreateTable(schema).ok());
  std::shared_ptr<Table> table = (*db)->GetTable("Items");
  auto over = [&] {
    logger->flush();
    return log.str().find("exceed the block cache") != std::string::npos;
  };
  EXPECT_FALSE(over());
  for (int i = 0; i < 20000 && !over(); ++i) {
    WriteOutcome out;
    ASSERT_TRUE(
        table
            ->Put(Item{{"id", testing::S(Key(i))}, {"v", testing::S(Value(i))}},
                  nullptr, &out)
            .ok());
  }
  EXPECT_TRUE(testing::Eventually(over)) << log.str();
  table.reset();
  ASSERT_TRUE((*db)->Close().ok());
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::store
