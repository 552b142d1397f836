#include "cli/handler_cli.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/sample_event.h"

namespace eddy::runtime::cli {
namespace {

namespace fs = std::filesystem;

// The files of a new project; @NAME@ is the handler's name, @HINT@ the
// find_package hint.
constexpr std::string_view kCMakeLists = R"tmpl(# @NAME@: an Eddy trigger handler (made by `eddy handler new`).
#
#   cmake -S . -B build && cmake --build build   # build/lib@NAME@.so
#   ctest --test-dir build --output-on-failure   # its unit test
cmake_minimum_required(VERSION 3.16)
project(@NAME@ LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo)
endif()

# The Eddy handler SDK (`cmake --install <eddy build> --prefix P` installs
# it). If it is not where it was when this file was written, configure with
# -DCMAKE_PREFIX_PATH=P.
find_package(EddyFunctions REQUIRED@HINT@)

# lib@NAME@.so: the library `eddy trigger create --handler` loads.
eddy_add_handler(@NAME@ handler.cc)
target_compile_options(@NAME@ PRIVATE -Wall -Wextra)

# The unit test: handler.cc linked into a test program that runs it in
# process on events (eddy/functions/testing.h).
enable_testing()
add_executable(@NAME@_test test/handler_test.cc handler.cc)
target_link_libraries(@NAME@_test PRIVATE eddy::functions_sdk)
target_compile_options(@NAME@_test PRIVATE -Wall -Wextra)
target_compile_definitions(@NAME@_test PRIVATE
  EVENTS_DIR="${CMAKE_CURRENT_SOURCE_DIR}/events")
add_test(NAME @NAME@_test COMMAND @NAME@_test)
)tmpl";

constexpr std::string_view kHandler = R"tmpl(// @NAME@: an Eddy trigger handler. Eddy calls handle() with each batch of
// changes (INSERT, MODIFY, REMOVE) of the table the trigger is attached to,
// in order per item, in a worker process of its own. The names are those of
// the AWS Lambda C++ runtime; the SDK is eddy/functions/handler.h.
#include <string>

#include "eddy/functions/handler.h"

using namespace eddy::handler;

namespace {

// `id="o1"` for the key {"id": {"S": "o1"}}: strings quoted, numbers bare,
// other types as DynamoDB JSON.
std::string describe_key(const attribute_value& keys) {
  std::string out;
  for (const attribute a : keys.as_map()) {
    if (!out.empty()) out += ", ";
    out += std::string(a.name) + "=";
    if (a.value.is_string()) {
      out += "\"" + std::string(a.value.as_string()) + "\"";
    } else if (a.value.is_number()) {
      out += std::string(a.value.as_number_text());
    } else {
      out += a.value.to_json();
    }
  }
  return out;
}

invocation_response handle(const invocation_request& request) {
  for (const record r : request.records()) {
    // r.event(): event_type::insert, modify or remove. r.keys() is the
    // item's key; r.new_image() (absent for a REMOVE) and r.old_image()
    // (absent for an INSERT) are the item after and before the change, when
    // the stream's view type has them. Views are valid during this call
    // only: copy what you keep.
    std::string line = "@NAME@: " + std::string(r.event_name()) + " " +
                       describe_key(r.keys());
    if (const auto image = r.new_image()) {
      line += " (" + std::to_string(image->size()) + " attributes)";
    }
    // Goes to the server's log (and to the test's result.logs).
    log_info(line);
  }
  // Throwing, or returning invocation_response::failure("why"), fails the
  // batch: it is retried (see the trigger's --max-retries, --on-failure).
  // With --report-batch-item-failures, return
  // invocation_response::batch_item_failures({sequence numbers}) to retry
  // from the first failed record only.
  return invocation_response::success();
}

}  // namespace

// The library's entry point. EDDY_HANDLER_WITH_INIT(init, handle) also runs
// `void init()` once at load (read configuration with std::getenv: see
// `eddy trigger create --env`).
EDDY_HANDLER(handle)
)tmpl";

constexpr std::string_view kTest = R"tmpl(// The unit test of @NAME@: the handler of ../handler.cc, linked into this
// program, runs in process on events, through the same entry point and
// C ABI a worker uses (eddy/functions/testing.h). Exit status 0: passed.
#include <cstdio>
#include <string>

#include "eddy/functions/testing.h"

namespace t = eddy::handler::test;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what, const t::result& r) {
  if (ok) return;
  ++failures;
  std::fprintf(stderr, "FAILED: %s (outcome: %s)\n", what.c_str(),
               r.describe().c_str());
  for (const t::log_line& line : r.logs) {
    std::fprintf(stderr, "  log: %s\n", line.message.c_str());
  }
}

}  // namespace

int main() {
  t::harness handler;  // Loads the handler as a worker does.

  // A record made in code: an INSERT of {"id": "o1", "total": 42}.
  t::result r = handler.invoke(t::event({t::insert(
      t::value::map({{"id", t::value::string("o1")}}),
      t::value::map({{"id", t::value::string("o1")},
                     {"total", t::value::number(42)}}))}));
  expect(r.is_success(), "an INSERT succeeds", r);
  expect(r.logged("@NAME@: INSERT id=\"o1\" (2 attributes)"),
         "the INSERT is logged with its key", r);

  // An event file, as Lambda delivers it (`eddy trigger generate-event`
  // writes more; `eddy trigger invoke` runs the built library on them).
  r = handler.invoke(t::load_event(EVENTS_DIR "/insert.json"));
  expect(r.is_success(), "events/insert.json succeeds", r);
  expect(r.logged("@NAME@: INSERT id=\"item-1\""),
         "events/insert.json's record is logged", r);

  if (failures == 0) std::printf("@NAME@_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
)tmpl";

constexpr std::string_view kReadme = R"tmpl(# @NAME@

An Eddy trigger handler, made by
`eddy handler new @NAME@`: a C++ function that Eddy runs on every change of
a table (INSERT, MODIFY, REMOVE), as AWS Lambda runs a function on a
DynamoDB stream.

- `handler.cc`: the handler. It logs each change; make it yours.
- `test/handler_test.cc`: its unit test, running the handler in process on
  events (`eddy/functions/testing.h`).
- `events/insert.json`: an event to test with; `eddy trigger generate-event
  insert|modify|remove --table T` prints more.

## Build, test, attach

```sh
cmake -S . -B build && cmake --build build
ctest --test-dir build --output-on-failure
install -m 0755 build/lib@NAME@.so "$HANDLER_DIR"/ && eddy trigger create --table "$TABLE" --handler lib@NAME@.so
```

1. Builds `build/lib@NAME@.so` against the Eddy handler SDK (if CMake
   cannot find it, add `-DCMAKE_PREFIX_PATH=<where Eddy is installed>`).
2. Runs the unit test.
3. Attaches the handler to table `$TABLE` (which needs a stream:
   `--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES`
   at `aws dynamodb create-table`): a server loads handler libraries only
   from its handler directory, `$HANDLER_DIR` (`eddy serve --handler-dir`,
   default `<data>/handlers`). The handler's lines appear in the server's
   log. Rebuild and install again to update it: the server picks up the
   new file.

Without a server, run the built library on an event in a worker process, as
the server would, and see its result and log:

```sh
eddy trigger invoke --handler build/lib@NAME@.so --event events/insert.json
```
)tmpl";

constexpr std::string_view kGitignore = "build/\n";

std::string Fill(std::string_view text, const std::string& name,
                 const std::string& hint) {
  std::string out(text);
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"@NAME@", name},
                                                        {"@HINT@", hint}}) {
    for (size_t at = out.find(from); at != std::string::npos;
         at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  }
  return out;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') ||
        (name[0] >= 'A' && name[0] <= 'Z'))) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Status WriteFile(const fs::path& path, const std::string& contents) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return Status::IOError("cannot create " + path.parent_path().string() +
                           ": " + ec.message());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return Status::IOError("cannot write " + path.string());
  return Status::OK();
}

}  // namespace

std::string InstalledSdkPrefix() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const fs::path prefix = self.parent_path().parent_path();
  std::vector<fs::path> candidates = {prefix / "lib", prefix / "lib64"};
  for (const fs::directory_entry& entry :
       fs::directory_iterator(prefix / "lib", ec)) {
    if (entry.is_directory(ec)) candidates.push_back(entry.path());
  }
  for (const fs::path& lib : candidates) {
    if (fs::exists(lib / "cmake/EddyFunctions/EddyFunctionsConfig.cmake", ec)) {
      return prefix.string();
    }
  }
  return "";
}

Status WriteHandlerProject(const std::string& name, const std::string& dir,
                           const std::string& sdk_prefix) {
  if (!ValidName(name)) {
    return Status::InvalidArgument(
        "the handler's name is a letter then letters, digits or _ (up to 64; "
        "it names the library lib<NAME>.so and CMake targets), got '" +
        name + "'");
  }
  std::error_code ec;
  const fs::path root = fs::absolute(dir, ec);
  if (fs::exists(root, ec) &&
      (!fs::is_directory(root, ec) || !fs::is_empty(root, ec))) {
    return Status::InvalidArgument(
        root.string() +
        " exists and is not an empty directory: choose another --dir");
  }
  std::string hint;
  if (!sdk_prefix.empty()) {
    std::string quoted;
    for (char c : sdk_prefix) {
      if (c == '"' || c == '\\' || c == '$') quoted += '\\';
      quoted += c;
    }
    hint = " HINTS \"" + quoted + "\"";
  }
  SampleEventOptions event_options;
  event_options.table = "Table";
  event_options.now_ms = 1704067200000;  // 2024-01-01T00:00:00Z
  EDDY_ASSIGN_OR_RETURN(std::string event, SampleEvent(event_options));
  const std::vector<std::pair<fs::path, std::string>> files = {
      {root / "CMakeLists.txt", Fill(kCMakeLists, name, hint)},
      {root / "handler.cc", Fill(kHandler, name, hint)},
      {root / "test" / "handler_test.cc", Fill(kTest, name, hint)},
      {root / "events" / "insert.json", event},
      {root / "README.md", Fill(kReadme, name, hint)},
      {root / ".gitignore", std::string(kGitignore)},
  };
  for (const auto& [path, contents] : files) {
    EDDY_RETURN_IF_ERROR(WriteFile(path, contents));
  }
  return Status::OK();
}

HandlerCommands::HandlerCommands(CLI::App* app) {
  handler_ = app->add_subcommand("handler", "Write trigger handlers");
  handler_->require_subcommand(1);
  new_ = handler_->add_subcommand(
      "new",
      "Write a ready handler project: CMakeLists.txt, handler.cc, a unit "
      "test, an event and a README");
  new_->add_option("name", name_, "The handler's name (lib<NAME>.so)")
      ->required();
  new_->add_option("--dir", dir_, "Where to write it (default: ./<NAME>)");
}

int HandlerCommands::Run() {
  if (new_->parsed()) return New();
  return 2;
}

int HandlerCommands::New() {
  const std::string dir = dir_.empty() ? name_ : dir_;
  const std::string prefix = InstalledSdkPrefix();
  Status written = WriteHandlerProject(name_, dir, prefix);
  if (!written.ok()) {
    std::fprintf(stderr, "eddy: %s\n", written.message().c_str());
    return written.IsInvalidArgument() ? 2 : 1;
  }
  std::printf("wrote the handler project %s in %s\n", name_.c_str(),
              dir.c_str());
  if (prefix.empty()) {
    std::printf(
        "note: this eddy is not installed beside an SDK: install one with "
        "`cmake --install <eddy build> --prefix P` and configure with "
        "-DCMAKE_PREFIX_PATH=P\n");
  }
  std::printf(
      "next:\n  cd %s\n  cmake -S . -B build && cmake --build build\n"
      "  ctest --test-dir build --output-on-failure\n",
      dir.c_str());
  return 0;
}

}  // namespace eddy::runtime::cli
