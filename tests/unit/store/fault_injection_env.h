// FaultInjectionEnv: a leveldb::EnvWrapper for tests that makes chosen file
// operations of LevelDB fail: the Nth append to a file (optionally after
// writing part of it, as a disk that fills up mid-write does), flush, sync,
// rename, file creation, or read (EIO) — once, several times, or until
// cleared — on files whose name contains a given part (".log" for the
// write-ahead log, ".ldb" for tables, "MANIFEST", "CURRENT"). Model: rocksdb
// utilities/fault_injection_env.h. The stream logs' counterpart is
// tests/unit/streams/fault_injection_file_system.h.
//
// Thread-safety: all methods may be called concurrently.
#ifndef EDDY_TESTS_UNIT_STORE_FAULT_INJECTION_ENV_H_
#define EDDY_TESTS_UNIT_STORE_FAULT_INJECTION_ENV_H_

#include <leveldb/env.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eddy::store::testing {

class FaultInjectionEnv : public leveldb::EnvWrapper {
 public:
  enum class Op {
    kNewWritableFile,
    kAppend,
    kFlush,
    kSync,
    kRename,
    kRead,
    kCount_,
  };

  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();
  static constexpr size_t kNoPartialWrite = std::numeric_limits<size_t>::max();

  struct Fault {
    Op op = Op::kAppend;
    int err = EIO;
    uint64_t after = 0;  // Let this many matching calls through first.
    uint64_t times = 1;  // Then fail this many (kForever: until Clear()).
    std::string path_contains;  // "" = every file.
    // kAppend: append this many bytes (capped at the data's size) first.
    size_t partial_bytes = kNoPartialWrite;

    // Fault::On(Op::kAppend, ENOSPC).OnPath(".log").Forever()
    static Fault On(Op op, int err = EIO) {
      Fault f;
      f.op = op;
      f.err = err;
      return f;
    }
    Fault& After(uint64_t n) {
      after = n;
      return *this;
    }
    Fault& Times(uint64_t n) {
      times = n;
      return *this;
    }
    Fault& Forever() { return Times(kForever); }
    Fault& OnPath(std::string part) {
      path_contains = std::move(part);
      return *this;
    }
    Fault& Partial(size_t bytes) {
      partial_bytes = bytes;
      return *this;
    }
  };

  explicit FaultInjectionEnv(leveldb::Env* target = leveldb::Env::Default())
      : leveldb::EnvWrapper(target) {}

  void Inject(Fault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({std::move(fault), 0, 0});
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.clear();
  }
  uint64_t Calls(Op op) const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[static_cast<size_t>(op)];
  }
  uint64_t Failures(Op op) const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_[static_cast<size_t>(op)];
  }

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    if (auto f = Hit(Op::kNewWritableFile, name)) {
      *result = nullptr;
      return Error("create", name, *f);
    }
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (s.ok()) *result = new File(this, name, *result);
    return s;
  }
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override {
    if (auto f = Hit(Op::kNewWritableFile, name)) {
      *result = nullptr;
      return Error("create", name, *f);
    }
    leveldb::Status s = target()->NewAppendableFile(name, result);
    if (s.ok()) *result = new File(this, name, *result);
    return s;
  }
  leveldb::Status NewRandomAccessFile(
      const std::string& name, leveldb::RandomAccessFile** result) override {
    leveldb::Status s = target()->NewRandomAccessFile(name, result);
    if (s.ok()) *result = new RandomFile(this, name, *result);
    return s;
  }
  leveldb::Status NewSequentialFile(const std::string& name,
                                    leveldb::SequentialFile** result) override {
    leveldb::Status s = target()->NewSequentialFile(name, result);
    if (s.ok()) *result = new SequentialFile(this, name, *result);
    return s;
  }
  leveldb::Status RenameFile(const std::string& from,
                             const std::string& to) override {
    if (auto f = Hit(Op::kRename, from)) return Error("rename", from, *f);
    return target()->RenameFile(from, to);
  }

 private:
  struct Armed {
    Fault fault;
    uint64_t seen = 0;
    uint64_t failed = 0;
  };

  class File final : public leveldb::WritableFile {
   public:
    File(FaultInjectionEnv* env, std::string name, leveldb::WritableFile* file)
        : env_(env), name_(std::move(name)), file_(file) {}
    leveldb::Status Append(const leveldb::Slice& data) override {
      if (auto f = env_->Hit(Op::kAppend, name_)) {
        const size_t partial = std::min(f->partial_bytes, data.size());
        if (f->partial_bytes != kNoPartialWrite && partial > 0) {
          // The part that made it reaches the file, as a short write does.
          file_->Append(leveldb::Slice(data.data(), partial));
          file_->Flush();
        }
        return Error("append", name_, *f);
      }
      return file_->Append(data);
    }
    leveldb::Status Close() override { return file_->Close(); }
    leveldb::Status Flush() override {
      if (auto f = env_->Hit(Op::kFlush, name_)) {
        return Error("flush", name_, *f);
      }
      return file_->Flush();
    }
    leveldb::Status Sync() override {
      if (auto f = env_->Hit(Op::kSync, name_)) {
        return Error("sync", name_, *f);
      }
      return file_->Sync();
    }

   private:
    FaultInjectionEnv* const env_;
    const std::string name_;
    std::unique_ptr<leveldb::WritableFile> file_;
  };

  class RandomFile final : public leveldb::RandomAccessFile {
   public:
    RandomFile(FaultInjectionEnv* env, std::string name,
               leveldb::RandomAccessFile* file)
        : env_(env), name_(std::move(name)), file_(file) {}
    leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                         char* scratch) const override {
      if (auto f = env_->Hit(Op::kRead, name_)) {
        *result = leveldb::Slice();
        return Error("read", name_, *f);
      }
      return file_->Read(offset, n, result, scratch);
    }

   private:
    FaultInjectionEnv* const env_;
    const std::string name_;
    std::unique_ptr<leveldb::RandomAccessFile> file_;
  };

  class SequentialFile final : public leveldb::SequentialFile {
   public:
    SequentialFile(FaultInjectionEnv* env, std::string name,
                   leveldb::SequentialFile* file)
        : env_(env), name_(std::move(name)), file_(file) {}
    leveldb::Status Read(size_t n, leveldb::Slice* result,
                         char* scratch) override {
      if (auto f = env_->Hit(Op::kRead, name_)) {
        *result = leveldb::Slice();
        return Error("read", name_, *f);
      }
      return file_->Read(n, result, scratch);
    }
    leveldb::Status Skip(uint64_t n) override { return file_->Skip(n); }

   private:
    FaultInjectionEnv* const env_;
    const std::string name_;
    std::unique_ptr<leveldb::SequentialFile> file_;
  };

  std::optional<Fault> Hit(Op op, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[static_cast<size_t>(op)];
    for (Armed& armed : faults_) {
      const Fault& f = armed.fault;
      if (f.op != op) continue;
      if (!f.path_contains.empty() &&
          name.find(f.path_contains) == std::string::npos) {
        continue;
      }
      if (armed.seen++ < f.after) continue;
      if (f.times != kForever && armed.failed >= f.times) continue;
      ++armed.failed;
      ++failures_[static_cast<size_t>(op)];
      return f;
    }
    return std::nullopt;
  }

  static leveldb::Status Error(const char* what, const std::string& name,
                               const Fault& fault) {
    return leveldb::Status::IOError(
        std::string(what) + " " + name,
        std::string(std::strerror(fault.err)) + " (injected)");
  }

  mutable std::mutex mu_;
  std::vector<Armed> faults_;
  std::array<uint64_t, static_cast<size_t>(Op::kCount_)> calls_{};
  std::array<uint64_t, static_cast<size_t>(Op::kCount_)> failures_{};
};

}  // namespace eddy::store::testing

#endif  // EDDY_TESTS_UNIT_STORE_FAULT_INJECTION_ENV_H_
