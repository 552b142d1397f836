// The handler directory's rules (issue 12, "triggers are code"): which
// library paths the server accepts and loads, on real files in temporary
// directories. Some cases chown files to another user, so the suite runs as
// root (as it does on the development machines and in CI).
#include "handler_dir.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace eddy::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

MATCHER(IsOk, "is OK") {
  *result_listener << arg.ToString();
  return arg.ok();
}

constexpr uid_t kOtherUser = 65534;  // nobody

class HandlerDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u)
        << "these tests chown files to another user: run them as root";
    root_ = fs::temp_directory_path() /
            ("eddy-handler-dir-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "handlers");
    fs::create_directories(root_ / "outside");
    ::chmod(root_.c_str(), 0755);
    ::chmod(Dir().c_str(), 0755);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Dir() const { return root_ / "handlers"; }
  fs::path Outside() const { return root_ / "outside"; }

  // Writes a file holding `content` with `mode` and returns its path.
  static fs::path Write(const fs::path& path, mode_t mode = 0755,
                        const std::string& content = "library") {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  static void Link(const fs::path& target, const fs::path& link) {
    fs::create_symlink(target, link);
  }

  HandlerDir Open() const {
    Result<HandlerDir> dir = HandlerDir::Open(Dir().string(), 0, false);
    EXPECT_THAT(dir.status(), IsOk());
    return std::move(*dir);
  }
  // Check()'s verdict on `handler`: "" if accepted, else the message.
  std::string Refusal(const std::string& handler) const {
    Result<std::string> path = Open().Check(handler);
    return path.ok() ? "" : path.status().message();
  }
  static std::string ReadAll(int fd) {
    std::string out(64, '\0');
    const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }

  fs::path root_;
};

// A bare file name is a file in the handler directory.
TEST_F(HandlerDirTest, RelativeNameResolvesInside) {
  Write(Dir() / "libaudit.so");
  Result<std::string> path = Open().Check("libaudit.so");
  ASSERT_THAT(path.status(), IsOk());
  EXPECT_EQ(*path, (Dir() / "libaudit.so").string());
  // So is a relative path below it, and one that wanders and comes back.
  Write(Dir() / "team" / "libteam.so");
  EXPECT_EQ(Refusal("team/libteam.so"), "");
  EXPECT_EQ(Refusal("team/../libaudit.so"), "");
}

// An absolute path is fine as long as it is inside the directory.
TEST_F(HandlerDirTest, AbsolutePathInsideIsAccepted) {
  const fs::path lib = Write(Dir() / "libaudit.so");
  Result<std::string> path = Open().Check(lib.string());
  ASSERT_THAT(path.status(), IsOk());
  EXPECT_EQ(*path, lib.string());
}

// The directory given through a symlink: paths spelled with the link are
// inside too, and resolve to the real directory.
TEST_F(HandlerDirTest, DirectoryGivenThroughSymlinkAcceptsBothSpellings) {
  Write(Dir() / "libaudit.so");
  Link(Dir(), root_ / "current");
  Result<HandlerDir> dir =
      HandlerDir::Open((root_ / "current").string(), 0, false);
  ASSERT_THAT(dir.status(), IsOk());
  EXPECT_EQ(dir->path(), fs::canonical(Dir()).string());
  Result<std::string> path =
      dir->Check((root_ / "current" / "libaudit.so").string());
  ASSERT_THAT(path.status(), IsOk());
  EXPECT_EQ(*path, (fs::canonical(Dir()) / "libaudit.so").string());
}

// `..` may not climb out, relative or absolute.
TEST_F(HandlerDirTest, DotDotOutIsRefused) {
  Write(Outside() / "libevil.so");
  EXPECT_THAT(Refusal("../outside/libevil.so"),
              HasSubstr("is outside the handler directory"));
  EXPECT_THAT(Refusal((Dir() / ".." / "outside" / "libevil.so").string()),
              HasSubstr("is outside the handler directory"));
  // The message says how to fix it.
  EXPECT_THAT(Refusal("../outside/libevil.so"),
              HasSubstr("Copy the library into " + Dir().string()));
}

// A system library named by its absolute path: the exploit.
TEST_F(HandlerDirTest, AbsolutePathOutsideIsRefused) {
  EXPECT_THAT(Refusal("/lib/x86_64-linux-gnu/libc.so.6"),
              HasSubstr("is outside the handler directory"));
  // A sibling whose name merely starts like the directory is outside too.
  Write(root_ / "handlers-evil" / "lib.so");
  EXPECT_THAT(Refusal((root_ / "handlers-evil" / "lib.so").string()),
              HasSubstr("is outside the handler directory"));
}

// A symlink in the directory pointing out of it is refused, and the
// message names where it leads.
TEST_F(HandlerDirTest, SymlinkOutIsRefused) {
  const fs::path target = Write(Outside() / "libevil.so");
  Link(target, Dir() / "libevil.so");
  EXPECT_THAT(Refusal("libevil.so"),
              HasSubstr("leads to " + target.string() +
                        ", outside the handler directory"));
  // The same through a symlinked subdirectory.
  Link(Outside(), Dir() / "sub");
  EXPECT_THAT(Refusal("sub/libevil.so"),
              HasSubstr("outside the handler directory"));
}

// A symlink to another file inside the directory is fine (versioned
// deployments: libaudit.so -> libaudit.so.2).
TEST_F(HandlerDirTest, SymlinkInsideIsAccepted) {
  Write(Dir() / "libaudit.so.2");
  Link("libaudit.so.2", Dir() / "libaudit.so");
  EXPECT_EQ(Refusal("libaudit.so"), "");
}

// Whoever may write the file may run code in the workers.
TEST_F(HandlerDirTest, GroupOrWorldWritableIsRefused) {
  Write(Dir() / "libgroup.so", 0775);
  Write(Dir() / "libworld.so", 0757);
  EXPECT_THAT(Refusal("libgroup.so"),
              HasSubstr("writable by group or others (mode 0775)"));
  EXPECT_THAT(Refusal("libworld.so"),
              HasSubstr("writable by group or others (mode 0757)"));
  EXPECT_THAT(Refusal("libgroup.so"),
              HasSubstr("chmod go-w " + (Dir() / "libgroup.so").string()));
}

// Owned by the server's user or root only.
TEST_F(HandlerDirTest, ForeignOwnerIsRefused) {
  const fs::path lib = Write(Dir() / "libforeign.so");
  ASSERT_EQ(::chown(lib.c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_THAT(Refusal("libforeign.so"),
              HasSubstr("belongs to uid 65534, not to the server's user"));
  // The server's own user (here: another uid than root) is trusted.
  ASSERT_EQ(::chown(Dir().c_str(), kOtherUser, kOtherUser), 0);
  Result<HandlerDir> dir = HandlerDir::Open(Dir().string(), kOtherUser, false);
  ASSERT_THAT(dir.status(), IsOk());
  EXPECT_THAT(dir->Check("libforeign.so").status(), IsOk());
}

TEST_F(HandlerDirTest, DirectoryIsRefused) {
  fs::create_directories(Dir() / "libdir.so");
  EXPECT_THAT(Refusal("libdir.so"),
              HasSubstr("is a directory, not a regular file"));
  EXPECT_THAT(Refusal("."), HasSubstr("outside the handler directory"));
}

// A FIFO is refused before anything opens it (an open would block).
TEST_F(HandlerDirTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((Dir() / "libfifo.so").c_str(), 0644), 0);
  EXPECT_THAT(Refusal("libfifo.so"),
              HasSubstr("is a named pipe, not a regular file"));
}

TEST_F(HandlerDirTest, MissingFileIsNotFound) {
  Result<std::string> path = Open().Check("libnone.so");
  EXPECT_TRUE(path.status().IsNotFound()) << path.status().ToString();
  EXPECT_THAT(path.status().message(),
              HasSubstr("Handler library not found: " +
                        (Dir() / "libnone.so").string()));
  EXPECT_THAT(path.status().message(),
              HasSubstr("copy the library there"));
  // A dangling symlink says so.
  Link(Dir() / "libgone.so.1", Dir() / "libgone.so");
  EXPECT_THAT(Refusal("libgone.so"), HasSubstr("symbolic link to nothing"));
}

TEST_F(HandlerDirTest, EmptyOrNulNameIsRefused) {
  EXPECT_THAT(Refusal(""), HasSubstr("Handler is required"));
  EXPECT_THAT(Refusal(std::string("libaudit.so\0../../x", 19)),
              HasSubstr("NUL"));
}

// Time of check to time of use: the descriptor OpenLibrary returns is the
// file that was checked; swapping the name afterwards changes nothing for
// the holder, and the next open checks the new file.
TEST_F(HandlerDirTest, DescriptorIsTheCheckedFile) {
  Write(Dir() / "libaudit.so", 0755, "checked");
  HandlerDir dir = Open();
  Result<std::string> path = dir.Resolve("libaudit.so");
  ASSERT_THAT(path.status(), IsOk());
  Result<int> fd = dir.OpenLibrary(*path);
  ASSERT_THAT(fd.status(), IsOk());
  // Swapped for a symlink out of the directory.
  const fs::path evil = Write(Outside() / "libevil.so", 0755, "evil");
  fs::remove(Dir() / "libaudit.so");
  Link(evil, Dir() / "libaudit.so");
  EXPECT_EQ(ReadAll(*fd), "checked");
  EXPECT_EQ(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ::close(*fd);
  Result<int> again = dir.OpenLibrary(*path);
  EXPECT_THAT(again.status().message(),
              HasSubstr("outside the handler directory"));
}

// With --worker-user, a library that user cannot read is refused up front.
TEST_F(HandlerDirTest, UnreadableByWorkerUserIsRefused) {
  Write(Dir() / "libprivate.so", 0700);
  Write(Dir() / "libpublic.so", 0755);
  HandlerDir dir = Open();
  dir.set_reader(kOtherUser, kOtherUser);
  EXPECT_THAT(dir.Check("libprivate.so").status().message(),
              HasSubstr("not readable by the worker user (uid 65534"));
  EXPECT_THAT(dir.Check("libpublic.so").status(), IsOk());
}

// The directory itself: created when missing (0755), refused when others
// may write to it or it is not a directory, each with the fix.
TEST_F(HandlerDirTest, DirectoryRules) {
  const fs::path fresh = root_ / "data" / "handlers";
  Result<HandlerDir> created = HandlerDir::Open(fresh.string(), 0, true);
  ASSERT_THAT(created.status(), IsOk());
  EXPECT_TRUE(fs::is_directory(fresh));
  EXPECT_EQ(fs::status(fresh).permissions() & fs::perms::others_write,
            fs::perms::none);

  EXPECT_FALSE(HandlerDir::Open((root_ / "none").string(), 0, false).ok());

  ::chmod(Dir().c_str(), 0777);
  Result<HandlerDir> world = HandlerDir::Open(Dir().string(), 0, false);
  EXPECT_THAT(world.status().message(),
              HasSubstr("writable by group or others (mode 0777)"));
  EXPECT_THAT(world.status().message(),
              HasSubstr("chmod go-w " + Dir().string()));
  ::chmod(Dir().c_str(), 0775);
  EXPECT_FALSE(HandlerDir::Open(Dir().string(), 0, false).ok());

  const fs::path file = Write(root_ / "file");
  EXPECT_THAT(HandlerDir::Open(file.string(), 0, false).status().message(),
              HasSubstr("is not a directory"));

  ::chmod(Dir().c_str(), 0755);
  ASSERT_EQ(::chown(Dir().c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_THAT(HandlerDir::Open(Dir().string(), 0, false).status().message(),
              HasSubstr("belongs to uid 65534"));
}

}  // namespace
}  // namespace eddy::runtime
