// HandlerLibrary: loading real handler libraries (tests/handlers/, built with
// eddy_add_handler) with dlopen, the load errors users will see, and the
// outcomes of the handlers that are safe to run in process. The crashing and
// hanging handlers are left to the worker tests.
#include "eddy/functions/handler_library.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace eddy::functions {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

MATCHER(IsOk, "is OK") {
  *result_listener << arg.status().ToString();
  return arg.ok();
}

class HandlerLibraryTest : public ::testing::Test {
 protected:
  // The built test handler `name` (tests/handlers/<name>.cc or .c).
  static std::string Path(const std::string& name) {
    return std::string(EDDY_TEST_HANDLER_DIR) + "/libtest_handler_" + name +
           ".so";
  }
  Result<std::unique_ptr<HandlerLibrary>> Load(const std::string& name) {
    return LoadPath(Path(name));
  }
  Result<std::unique_ptr<HandlerLibrary>> LoadPath(const std::string& path) {
    HandlerLibrary::Options options;
    options.log = [this](HandlerLogLevel, std::string_view line) {
      logs_.emplace_back(line);
    };
    return HandlerLibrary::Load(path, options);
  }
  // The load error message for `name`; fails the test if it loaded.
  std::string LoadError(const std::string& name) {
    auto library = Load(name);
    EXPECT_FALSE(library.ok()) << name << " loaded";
    return library.ok() ? "" : library.status().message();
  }
  static HostRecord Record(std::string id, std::string seq) {
    HostRecord r;
    r.event_name = HostEventName::kInsert;
    r.event_id = "ev-" + seq;
    r.sequence_number = std::move(seq);
    r.event_source_arn = "arn:aws:dynamodb:local:0:table/T/stream/x";
    r.table_name = "T";
    r.stream_view_type = "NEW_IMAGE";
    r.keys = HostValue::Map({{"id", HostValue::String(id)}});
    r.new_image = HostValue::Map({{"id", HostValue::String(id)}});
    return r;
  }
  static HostBatch Batch(std::vector<HostRecord> records) {
    HostBatch b;
    b.trigger_name = "trig";
    b.records = std::move(records);
    return b;
  }
  // Loads `name` and runs it on `batch`.
  HandlerResult Run(const std::string& name, const HostBatch& batch) {
    auto library = Load(name);
    EXPECT_THAT(library, IsOk());
    if (!library.ok()) return {};
    auto result = (*library)->Invoke(batch);
    EXPECT_THAT(result, IsOk());
    return result.ok() ? std::move(*result) : HandlerResult{};
  }

  std::vector<std::string> logs_;
};

// The happy path through dlopen: the ok handler sees each record (it logs
// them as Lambda JSON through the host, then one line naming the batch's
// shard and records) and succeeds.
TEST_F(HandlerLibraryTest, OkHandlerRunsAndLogsThroughHost) {
  const HandlerResult result =
      Run("ok", Batch({Record("a", "100"), Record("b", "200")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kSuccess);
  ASSERT_EQ(logs_.size(), 3u);
  EXPECT_THAT(logs_[0], AllOf(StartsWith(R"({"eventID":"ev-100")"),
                              HasSubstr(R"("Keys":{"id":{"S":"a"}})")));
  EXPECT_THAT(logs_[1], HasSubstr(R"("SequenceNumber":"200")"));
  EXPECT_THAT(logs_[2],
              AllOf(StartsWith("batch "), HasSubstr("ev-100,ev-200,")));
}

// Window state survives a real library boundary: the ok handler counts
// records into its state.
TEST_F(HandlerLibraryTest, OkHandlerKeepsWindowState) {
  HostBatch batch = Batch({Record("a", "1"), Record("b", "2")});
  batch.window = HostWindow{0, 1000, "40", false, false};

  EXPECT_EQ(Run("ok", batch).window_state, "42");
}

// A handler that returns failure: the whole batch fails with its message.
TEST_F(HandlerLibraryTest, ReturnsFailureIsAFailureResult) {
  const HandlerResult result =
      Run("returns_failure", Batch({Record("a", "1")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_EQ(result.error_type, "TestFailure");
  EXPECT_EQ(result.error_message, "returns_failure: refusing 1 records");
}

// partial_batch_failure reports exactly the records whose key starts with
// "fail", by sequence number, in batch order.
TEST_F(HandlerLibraryTest, PartialBatchFailureReportsFailedRecords) {
  const HandlerResult result =
      Run("partial_batch_failure",
          Batch({Record("ok1", "1"), Record("fail-a", "2"), Record("ok2", "3"),
                 Record("fail-b", "4")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kBatchItemFailures);
  EXPECT_THAT(result.failed_sequence_numbers, ElementsAre("2", "4"));
}

// A throwing handler in a real library: the exception is caught inside the
// library (never unwinds into the host) and becomes a failure.
TEST_F(HandlerLibraryTest, ThrowingHandlerIsAFailureResult) {
  const HandlerResult result = Run("throws", Batch({Record("a", "1")}));

  EXPECT_EQ(result.outcome, HandlerResult::Outcome::kFailure);
  EXPECT_EQ(result.error_type, "Unhandled");
  EXPECT_EQ(result.error_message, "throws: deliberate exception");
}

// A library built for another ABI version is refused with both versions
// named, before any of its code beyond the entry runs.
TEST_F(HandlerLibraryTest, AbiMismatchIsAClearLoadError) {
  EXPECT_EQ(LoadError("abi_mismatch"),
            Path("abi_mismatch") + ": handler ABI version 2, host supports 1");
}

// A library without the entry symbol (not built with EDDY_HANDLER) is
// refused with a hint at the fix.
TEST_F(HandlerLibraryTest, MissingEntryIsAClearLoadError) {
  EXPECT_EQ(LoadError("missing_entry"),
            Path("missing_entry") +
                ": missing entry symbol eddy_handler_init \xE2\x80\x94 was it "
                "built with EDDY_HANDLER?");
}

// A failing init is a load error carrying the handler's own explanation.
TEST_F(HandlerLibraryTest, InitFailureCarriesTheHandlersMessage) {
  EXPECT_EQ(LoadError("init_fails"),
            Path("init_fails") +
                ": eddy_handler_init failed with EDDY_STATUS_ERROR: init "
                "failed: init_fails: cannot open /nonexistent/config");
}

// A failed load unloads the library: loading it again gives the same clear
// error, not "already loaded".
TEST_F(HandlerLibraryTest, FailedLoadUnloadsTheLibrary) {
  const std::string first = LoadError("abi_mismatch");
  EXPECT_EQ(LoadError("abi_mismatch"), first);
}

// Paths that are not handler libraries at all.
TEST_F(HandlerLibraryTest, MissingOrInvalidFileIsALoadError) {
  auto missing = LoadPath("/nonexistent/libnothing.so");
  EXPECT_TRUE(missing.status().IsNotFound());

  const std::string text = ::testing::TempDir() + "/not_a_library.so";
  std::ofstream(text) << "not ELF";
  auto invalid = LoadPath(text);
  EXPECT_TRUE(invalid.status().IsInvalidArgument());
  EXPECT_THAT(invalid.status().message(), StartsWith(text + ": cannot load: "));
  std::filesystem::remove(text);
}

// One library file, one live instance per process (its globals are the
// handler's state); once unloaded it can be loaded and initialised again.
TEST_F(HandlerLibraryTest, SameLibraryLoadsOnceAtATime) {
  auto first = Load("ok");
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(Load("ok").status().IsAlreadyExists());

  first->reset();
  auto again = Load("ok");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)->Invoke(Batch({})).value().outcome,
            HandlerResult::Outcome::kSuccess);
}

// Destroying a HandlerLibrary really unmaps the library (eddy_add_handler
// keeps STB_GNU_UNIQUE symbols out of handlers): a handler rebuilt at the same
// path can be loaded fresh without restarting the process.
TEST_F(HandlerLibraryTest, DestroyUnmapsTheLibrary) {
  auto library = Load("ok");
  ASSERT_THAT(library, IsOk());
  void* probe = ::dlopen(Path("ok").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(probe, nullptr);
  ::dlclose(probe);

  library->reset();

  EXPECT_EQ(::dlopen(Path("ok").c_str(), RTLD_NOW | RTLD_NOLOAD), nullptr);
}

}  // namespace
}  // namespace eddy::functions
