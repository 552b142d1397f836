#include "eddy/functions/handler_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "batch_marshaller.h"

// The ABI's opaque host types. Handlers only ever see pointers to them.

// Per library: where its log lines go, and the last error line logged during
// init (the explanation of a failed init, see handler_abi.h).
struct eddy_host_context_t {
  std::string name;
  eddy::functions::HandlerLibrary::LogSink sink;
  std::mutex mu;
  bool in_init = false;    // Guarded by mu.
  std::string init_error;  // Guarded by mu.
};

// Per Invoke: where the result functions write. Lives on Invoke's stack;
// `magic` and `thread` catch calls outside the handle_batch call that got it.
struct eddy_result_t {
  uint32_t magic;
  std::thread::id thread;
  eddy::functions::HandlerResult* result;
  bool failure_set;
};

namespace eddy::functions {
namespace {

constexpr uint32_t kResultMagic = 0x45444459;  // "EDDY"

const char* StatusName(eddy_status_t status) {
  switch (status) {
    case EDDY_STATUS_OK:
      return "EDDY_STATUS_OK";
    case EDDY_STATUS_ERROR:
      return "EDDY_STATUS_ERROR";
    case EDDY_STATUS_INVALID_ARGUMENT:
      return "EDDY_STATUS_INVALID_ARGUMENT";
    case EDDY_STATUS_VERSION_MISMATCH:
      return "EDDY_STATUS_VERSION_MISMATCH";
    case EDDY_STATUS_OUT_OF_MEMORY:
      return "EDDY_STATUS_OUT_OF_MEMORY";
  }
  return "unknown status";
}

const char* LevelName(HandlerLogLevel level) {
  switch (level) {
    case HandlerLogLevel::kTrace:
      return "TRACE";
    case HandlerLogLevel::kDebug:
      return "DEBUG";
    case HandlerLogLevel::kInfo:
      return "INFO";
    case HandlerLogLevel::kWarn:
      return "WARN";
    case HandlerLogLevel::kError:
      return "ERROR";
  }
  return "?";
}

HandlerLogLevel ToLevel(eddy_log_level_t level) {
  switch (level) {
    case EDDY_LOG_TRACE:
      return HandlerLogLevel::kTrace;
    case EDDY_LOG_DEBUG:
      return HandlerLogLevel::kDebug;
    case EDDY_LOG_INFO:
      return HandlerLogLevel::kInfo;
    case EDDY_LOG_WARN:
      return HandlerLogLevel::kWarn;
    case EDDY_LOG_ERROR:
      return HandlerLogLevel::kError;
  }
  return HandlerLogLevel::kError;  // Unknown levels are not lost.
}

// A pointer + length from the handler as a string_view; NULL is only valid
// with size 0.
bool View(const void* data, size_t size, std::string_view* out) {
  if (data == nullptr) {
    *out = {};
    return size == 0;
  }
  *out = std::string_view(static_cast<const char*>(data), size);
  return true;
}

// ---- Host functions (eddy_host_api_t). Never throw.

void HostLog(eddy_host_context_t* context, eddy_log_level_t level,
             const char* message, size_t message_size) noexcept {
  std::string_view text;
  if (context == nullptr || !View(message, message_size, &text)) return;
  const HandlerLogLevel lvl = ToLevel(level);
  try {
    if (lvl == HandlerLogLevel::kError) {
      std::lock_guard<std::mutex> lock(context->mu);
      if (context->in_init) context->init_error.assign(text);
    }
    if (context->sink) {
      context->sink(lvl, text);
    } else {
      std::fprintf(stderr, "[handler %s] %s %.*s\n", context->name.c_str(),
                   LevelName(lvl), static_cast<int>(text.size()), text.data());
    }
  } catch (...) {
    // A failing log sink must not fail the handler; the line is dropped.
  }
}

// The result handle, if it is valid here and now.
HandlerResult* Target(eddy_result_t* result) {
  if (result == nullptr || result->magic != kResultMagic ||
      result->thread != std::this_thread::get_id()) {
    return nullptr;
  }
  return result->result;
}

eddy_status_t HostSetFailure(eddy_result_t* result, const char* error_type,
                             size_t error_type_size, const char* error_message,
                             size_t error_message_size) noexcept {
  HandlerResult* target = Target(result);
  std::string_view type, message;
  if (target == nullptr || !View(error_type, error_type_size, &type) ||
      !View(error_message, error_message_size, &message)) {
    return EDDY_STATUS_INVALID_ARGUMENT;
  }
  try {
    target->error_type.assign(type);
    target->error_message.assign(message);
  } catch (const std::bad_alloc&) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  result->failure_set = true;
  return EDDY_STATUS_OK;
}

eddy_status_t HostAddBatchItemFailure(eddy_result_t* result,
                                      const char* sequence_number,
                                      size_t sequence_number_size) noexcept {
  HandlerResult* target = Target(result);
  std::string_view seq;
  if (target == nullptr || !View(sequence_number, sequence_number_size, &seq)) {
    return EDDY_STATUS_INVALID_ARGUMENT;
  }
  try {
    target->failed_sequence_numbers.emplace_back(seq);
  } catch (const std::bad_alloc&) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  return EDDY_STATUS_OK;
}

eddy_status_t HostSetWindowState(eddy_result_t* result, const void* state,
                                 size_t state_size) noexcept {
  HandlerResult* target = Target(result);
  std::string_view bytes;
  if (target == nullptr || !View(state, state_size, &bytes)) {
    return EDDY_STATUS_INVALID_ARGUMENT;
  }
  try {
    target->window_state.emplace(bytes);
  } catch (const std::bad_alloc&) {
    return EDDY_STATUS_OUT_OF_MEMORY;
  }
  return EDDY_STATUS_OK;
}

// ---- Libraries loaded in this process.

// dlopen() returns the same handle for a library that is already loaded, and
// its globals (where handlers keep their state) would be shared by two
// HandlerLibrary objects, with init called twice. We refuse that instead.
std::mutex& LoadedMutex() {
  static std::mutex mu;
  return mu;
}
std::set<void*>& LoadedHandles() {  // Guarded by LoadedMutex().
  static std::set<void*>* handles = new std::set<void*>();
  return *handles;
}

void Unload(void* handle) {
  std::lock_guard<std::mutex> lock(LoadedMutex());
  ::dlclose(handle);
  LoadedHandles().erase(handle);
}

class HandlerLibraryImpl final : public HandlerLibrary {
 public:
  // `dl_handle`: the library, unloaded by the destructor; nullptr for a
  // handler linked into the program.
  HandlerLibraryImpl(std::string name, void* dl_handle, Options options)
      : name_(std::move(name)), dl_handle_(dl_handle) {
    context_.name = name_;
    context_.sink = std::move(options.log);
    api_.struct_size = sizeof(eddy_host_api_t);
    api_.context = &context_;
    api_.log = &HostLog;
    api_.result_set_failure = &HostSetFailure;
    api_.result_add_batch_item_failure = &HostAddBatchItemFailure;
    api_.result_set_window_state = &HostSetWindowState;
  }

  ~HandlerLibraryImpl() override {
    if (table_ != nullptr && table_->destroy != nullptr) {
      table_->destroy(table_->user_data);
    }
    if (dl_handle_ != nullptr) Unload(dl_handle_);
  }

  // The version handshake. On failure the handler is not usable and its
  // destroy is not called (handler_abi.h, "Lifecycle").
  Status Init(eddy_handler_init_fn init) {
    {
      std::lock_guard<std::mutex> lock(context_.mu);
      context_.in_init = true;
    }
    const eddy_handler_t* table = nullptr;
    const eddy_status_t status = init(kAbiVersion, &api_, &table);
    std::string init_error;
    {
      std::lock_guard<std::mutex> lock(context_.mu);
      context_.in_init = false;
      init_error = std::move(context_.init_error);
    }

    // The first two fields of the table are at the same place in every
    // version: check the version before anything else.
    if (table != nullptr && table->abi_version != kAbiVersion) {
      return Status::InvalidArgument(name_ + ": handler ABI version " +
                                     std::to_string(table->abi_version) +
                                     ", host supports " +
                                     std::to_string(kAbiVersion));
    }
    if (status == EDDY_STATUS_VERSION_MISMATCH) {
      return Status::InvalidArgument(name_ +
                                     ": handler does not support host ABI "
                                     "version " +
                                     std::to_string(kAbiVersion));
    }
    if (status != EDDY_STATUS_OK) {
      return Status::InvalidArgument(
          name_ + ": eddy_handler_init failed with " + StatusName(status) +
          (init_error.empty() ? "" : ": " + init_error));
    }
    if (table == nullptr) {
      return Status::InvalidArgument(
          name_ + ": eddy_handler_init returned no handler table");
    }
    if (!EDDY_ABI_HAS_FIELD(table, eddy_handler_t, destroy)) {
      return Status::InvalidArgument(name_ + ": handler table is " +
                                     std::to_string(table->struct_size) +
                                     " bytes, smaller than ABI version 1's " +
                                     std::to_string(sizeof(eddy_handler_t)));
    }
    if (table->handle_batch == nullptr) {
      if (table->destroy != nullptr) table->destroy(table->user_data);
      return Status::InvalidArgument(name_ +
                                     ": handler table has no handle_batch");
    }
    table_ = table;
    return Status::OK();
  }

  Result<HandlerResult> Invoke(const HostBatch& batch) override {
    std::lock_guard<std::mutex> lock(invoke_mu_);
    try {
      EDDY_RETURN_IF_ERROR(marshaller_.Build(batch));
      HandlerResult result;
      eddy_result_t handle{kResultMagic, std::this_thread::get_id(), &result,
                           false};
      const eddy_status_t status = table_->handle_batch(
          table_->user_data, &marshaller_.batch(), &handle);
      handle.magic = 0;  // Later calls with this handle are refused.

      if (status != EDDY_STATUS_OK || handle.failure_set) {
        result.outcome = HandlerResult::Outcome::kFailure;
        result.failed_sequence_numbers.clear();
        if (!handle.failure_set) {
          result.error_type = "HandlerError";
          result.error_message =
              std::string("handle_batch returned ") + StatusName(status);
        }
      } else if (!result.failed_sequence_numbers.empty()) {
        result.outcome = HandlerResult::Outcome::kBatchItemFailures;
      }
      return result;
    } catch (const std::bad_alloc&) {
      return Status::Internal(name_ + ": out of memory building a batch");
    }
  }

  const std::string& name() const override { return name_; }

 private:
  const std::string name_;
  void* const dl_handle_;
  eddy_host_context_t context_;
  eddy_host_api_t api_{};
  const eddy_handler_t* table_ = nullptr;  // Set once by a successful Init.
  std::mutex invoke_mu_;                   // Serialises handle_batch calls.
  BatchMarshaller marshaller_;             // Guarded by invoke_mu_.
};

}  // namespace

Result<std::unique_ptr<HandlerLibrary>> HandlerLibrary::Load(
    const std::string& path, Options options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound(path + ": no such handler library");
  }
  void* handle = nullptr;
  {
    std::lock_guard<std::mutex> lock(LoadedMutex());
    ::dlerror();
    handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* error = ::dlerror();
      return Status::InvalidArgument(
          path +
          ": cannot load: " + (error != nullptr ? error : "dlopen failed"));
    }
    if (!LoadedHandles().insert(handle).second) {
      ::dlclose(handle);  // Drops only the reference this dlopen added.
      return Status::AlreadyExists(
          path +
          ": already loaded in this process; load a copy of the file "
          "under another path to run a second instance");
    }
  }
  void* entry = ::dlsym(handle, EDDY_HANDLER_ENTRY_SYMBOL);
  if (entry == nullptr) {
    Unload(handle);
    return Status::InvalidArgument(path + ": missing entry symbol " +
                                   EDDY_HANDLER_ENTRY_SYMBOL +
                                   " \xE2\x80\x94 was it built with "
                                   "EDDY_HANDLER?");
  }
  // The destructor unloads the library, also when Init fails below.
  auto library =
      std::make_unique<HandlerLibraryImpl>(path, handle, std::move(options));
  EDDY_RETURN_IF_ERROR(
      library->Init(reinterpret_cast<eddy_handler_init_fn>(entry)));
  return std::unique_ptr<HandlerLibrary>(std::move(library));
}

Result<std::unique_ptr<HandlerLibrary>> HandlerLibrary::FromEntry(
    eddy_handler_init_fn init, std::string name, Options options) {
  if (init == nullptr) {
    return Status::InvalidArgument(name + ": no entry function");
  }
  auto library = std::make_unique<HandlerLibraryImpl>(std::move(name), nullptr,
                                                      std::move(options));
  EDDY_RETURN_IF_ERROR(library->Init(init));
  return std::unique_ptr<HandlerLibrary>(std::move(library));
}

}  // namespace eddy::functions
