// SegmentFileCache: the least recently read files beyond its capacity are
// closed, a file handed out stays open until dropped, and nothing is cached
// when the open fails or the capacity is 0.
#include "eddy/streams/segment_file_cache.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "streams_test_util.h"

namespace eddy::streams {
namespace {

namespace fs = std::filesystem;

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

class SegmentFileCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir("eddy_segment_file_cache");
    fs::create_directories(dir_);
    for (int i = 0; i < 4; ++i) {
      paths_.push_back((dir_ / ("segment-" + std::to_string(i))).string());
      std::ofstream(paths_.back()) << "segment " << i;
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const File> Get(SegmentFileCache& cache, uint64_t id,
                                  int path) {
    auto file = cache.Get(id, FileSystem::Default(), paths_[path]);
    EXPECT_THAT(file, IsOk());
    return file.ok() ? *file : nullptr;
  }

  fs::path dir_;
  std::vector<std::string> paths_;
};

TEST_F(SegmentFileCacheTest, ClosesTheLeastRecentlyReadBeyondItsCapacity) {
  SegmentFileCache cache(2);
  const uint64_t a = cache.NewId(), b = cache.NewId(), c = cache.NewId();
  EXPECT_NE(a, b);
  const int fd_a = Get(cache, a, 0)->fd();
  const int fd_b = Get(cache, b, 1)->fd();
  // A hit is the same open file, and makes `a` the most recently read.
  EXPECT_EQ(Get(cache, a, 0)->fd(), fd_a);
  Get(cache, c, 2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.Contains(a));
  EXPECT_FALSE(cache.Contains(b));
  EXPECT_TRUE(cache.Contains(c));
  EXPECT_TRUE(IsOpen(fd_a));
  EXPECT_FALSE(IsOpen(fd_b)) << "evicted, and no copy held: closed";
  // Read again, `b` is opened anew.
  EXPECT_THAT(Get(cache, b, 1), ::testing::NotNull());
  EXPECT_FALSE(cache.Contains(a));
}

TEST_F(SegmentFileCacheTest, AFileHandedOutStaysOpenUntilDropped) {
  SegmentFileCache cache(1);
  const uint64_t a = cache.NewId(), b = cache.NewId();
  std::shared_ptr<const File> held = Get(cache, a, 0);
  Get(cache, b, 1);  // Evicts `a`.
  ASSERT_FALSE(cache.Contains(a));
  EXPECT_TRUE(IsOpen(held->fd()));
  const int fd = held->fd();
  held.reset();
  EXPECT_FALSE(IsOpen(fd));
}

TEST_F(SegmentFileCacheTest, InsertEraseAndReplace) {
  SegmentFileCache cache(2);
  const uint64_t a = cache.NewId();
  auto first =
      std::make_shared<const File>(::open(paths_[0].c_str(), O_RDONLY));
  const int first_fd = first->fd();
  cache.Insert(a, std::move(first));
  EXPECT_EQ(Get(cache, a, 0)->fd(), first_fd) << "inserted files are read";
  cache.Insert(
      a, std::make_shared<const File>(::open(paths_[1].c_str(), O_RDONLY)));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(IsOpen(first_fd)) << "replaced";
  const int second_fd = Get(cache, a, 0)->fd();
  cache.Erase(a);
  EXPECT_FALSE(cache.Contains(a));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(IsOpen(second_fd));
  cache.Erase(a);  // Unknown ids are ignored.
}

TEST_F(SegmentFileCacheTest, CapacityZeroCachesNothing) {
  SegmentFileCache cache(0);
  const uint64_t a = cache.NewId();
  std::shared_ptr<const File> file = Get(cache, a, 0);
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(IsOpen(file->fd()));
  EXPECT_FALSE(cache.Contains(a));
  cache.Insert(a, file);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(SegmentFileCacheTest, AFailedOpenCachesNothing) {
  SegmentFileCache cache(2);
  const uint64_t a = cache.NewId();
  auto file = cache.Get(a, FileSystem::Default(), (dir_ / "missing").string());
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), ::testing::HasSubstr("missing"));
  EXPECT_FALSE(cache.Contains(a));
}

}  // namespace
}  // namespace eddy::streams
