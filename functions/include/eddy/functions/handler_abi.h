/* handler_abi.h: the C ABI between Eddy's functions host (the worker) and a
 * trigger handler compiled as a shared library.
 *
 * Pure C99; compiles as C and C++. Depends on <stddef.h> and <stdint.h> only.
 * Most handlers never use it directly: "eddy/functions/handler.h" wraps it in
 * C++ and EDDY_HANDLER(fn) writes the entry point. Models: leveldb
 * include/leveldb/c.h, redis src/redismodule.h (RedisModule_Init),
 * envoy source/extensions/dynamic_modules/abi/abi.h.
 *
 * Lifecycle
 *   1. The host dlopen()s the library (RTLD_NOW | RTLD_LOCAL) and looks up
 *      one symbol, EDDY_HANDLER_ENTRY_SYMBOL ("eddy_handler_init").
 *   2. It calls eddy_handler_init(host_abi_version, host, &handler) once.
 *      The handler checks host_abi_version BEFORE touching `host` (a future
 *      major version may lay it out differently), keeps `host`, and points
 *      `*handler` at its handler table, even when it refuses the host's
 *      version, so that the host can name both versions in its error.
 *   3. The host checks handler->abi_version, then the returned status; on
 *      any failure it dlclose()s the library without calling destroy.
 *   4. handle_batch(user_data, batch, result) once per batch of records.
 *   5. destroy(user_data), if not NULL, once after the last handle_batch;
 *      then dlclose(). The handler must stop any threads it started.
 *
 * Outcome of a batch (Lambda's semantics, reference/streams-triggers.md §2)
 *   - Success: handle_batch returns EDDY_STATUS_OK and reports nothing.
 *   - Failure (a "function error", the whole batch is retried): the handler
 *     calls host->result_set_failure, or returns a status other than
 *     EDDY_STATUS_OK. Failure wins over everything else reported.
 *   - Batch item failures (ReportBatchItemFailures): the handler calls
 *     host->result_add_batch_item_failure once per failed record with its
 *     sequence number (Lambda's itemIdentifier). The host passes the strings
 *     through unchanged; the dispatcher applies Lambda's rules (checkpoint at
 *     the lowest; an empty or unknown identifier fails the whole batch).
 *   - Tumbling windows: the handler calls host->result_set_window_state with
 *     the window's new state. In a window batch, a reply without state is a
 *     failure (Lambda's rule), so a handler that keeps no state sets an
 *     empty one.
 *
 * Ownership
 *   - Host memory: everything reachable from `batch` (records, values,
 *     strings) is owned by the host and valid only until handle_batch
 *     returns; copy what you keep. `host` and everything it points to stays
 *     valid from the call to eddy_handler_init until destroy returns.
 *   - Handler memory: the handler never hands the host memory to free. The
 *     result functions copy their arguments before they return, so the
 *     caller may free or reuse its buffers right away. The handler table
 *     (`*handler`) and its user_data must stay valid until destroy returns
 *     (a static table is typical); the host never writes to it.
 *   - Every host buffer (eddy_buffer_t) is followed by a NUL byte
 *     (data[size] == '\0') for the convenience of C code; `size` is
 *     authoritative (S may contain NUL, B is arbitrary bytes). Buffers the
 *     handler passes to the host need no terminator.
 *
 * Thread-safety
 *   - eddy_handler_init, handle_batch and destroy are never called
 *     concurrently for one loaded library: the host runs at most one call at
 *     a time, possibly from different threads, each call happening-before
 *     the next. A handler may therefore use global state without locks.
 *   - host->log may be called from any thread, concurrently, between
 *     eddy_handler_init and the return of destroy.
 *   - The result_* functions may be called only during the handle_batch call
 *     that received `result`, and only from that call's thread.
 *   - The host loads a given library file at most once per process, so a
 *     handler's global state belongs to exactly one loaded instance.
 *
 * Errors and exceptions
 *   - Functions report errors as eddy_status_t. No C++ exception, longjmp or
 *     signal may cross this boundary in either direction: C++ handlers catch
 *     everything (handler.h does) and turn it into a failure result.
 *   - To explain a failed init, log at EDDY_LOG_ERROR before returning; the
 *     host puts the last error-level message into its load error.
 *
 * Versioning
 *   - EDDY_HANDLER_ABI_VERSION is the major version. It changes only on an
 *     incompatible change (a field moved, removed or retyped, a changed
 *     meaning, or any change to a fixed-layout type below). The host loads a
 *     handler only if it supports the handler's version (today: exactly 1).
 *   - Growable structs begin with `uint32_t struct_size`, set by whoever
 *     fills the struct to its sizeof. Compatible changes append fields at the
 *     end (new host functions go at the end of eddy_host_api_t) and keep the
 *     version. A reader accepts a struct larger than it knows and ignores the
 *     tail; it checks EDDY_ABI_HAS_FIELD before reading a field that was not
 *     in version 1. Fields that are absent read as zero / NULL.
 *   - Fixed-layout types (they sit in arrays, so they cannot grow):
 *     eddy_buffer_t, eddy_value_t, eddy_attribute_t. New DynamoDB types would
 *     get new eddy_value_type_t tags; readers treat an unknown tag as an
 *     opaque value.
 *   - The first two fields of eddy_handler_t (struct_size, abi_version) keep
 *     their place in every version, so the host can always read them.
 *   - Integers are fixed-width; in-memory lengths and counts are size_t (the
 *     host and the handler share one process). Enum-typed values are stored
 *     in structs as uint32_t.
 */
#ifndef EDDY_FUNCTIONS_HANDLER_ABI_H_
#define EDDY_FUNCTIONS_HANDLER_ABI_H_

#include <stddef.h>
#include <stdint.h>

/* The ABI major version this header describes. */
#define EDDY_HANDLER_ABI_VERSION 1u

/* The one symbol a handler library exports. */
#define EDDY_HANDLER_ENTRY_SYMBOL "eddy_handler_init"

/* Makes a symbol visible outside a library built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define EDDY_HANDLER_EXPORT __attribute__((visibility("default")))
#else
#define EDDY_HANDLER_EXPORT
#endif

/* True if the size-prefixed struct at `ptr` is large enough to hold `field`
 * of `type`: use before reading a field added after version 1. */
#define EDDY_ABI_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned across the ABI. */
typedef enum eddy_status_t {
  EDDY_STATUS_OK = 0,
  /* Generic failure; details, if any, went through host->log or
   * result_set_failure. */
  EDDY_STATUS_ERROR = 1,
  /* A NULL or otherwise invalid argument, or a call outside its allowed
   * window (e.g. a result function after handle_batch returned). */
  EDDY_STATUS_INVALID_ARGUMENT = 2,
  /* The caller's ABI version is not supported. */
  EDDY_STATUS_VERSION_MISMATCH = 3,
  EDDY_STATUS_OUT_OF_MEMORY = 4
} eddy_status_t;

typedef enum eddy_log_level_t {
  EDDY_LOG_TRACE = 0,
  EDDY_LOG_DEBUG = 1,
  EDDY_LOG_INFO = 2,
  EDDY_LOG_WARN = 3,
  EDDY_LOG_ERROR = 4
} eddy_log_level_t;

/* The ten DynamoDB attribute value types. 0 is never a valid tag. */
typedef enum eddy_value_type_t {
  EDDY_VALUE_S = 1,    /* string: UTF-8 text in `u.scalar` */
  EDDY_VALUE_N = 2,    /* number: decimal text in `u.scalar`, as DynamoDB
                          returns it (e.g. "42", "-1.5", "1E+30") */
  EDDY_VALUE_B = 3,    /* binary: raw bytes in `u.scalar` (not base64) */
  EDDY_VALUE_BOOL = 4, /* boolean: `u.boolean` is 0 or 1 */
  EDDY_VALUE_NULL = 5, /* null: no payload */
  EDDY_VALUE_M = 6,    /* map: `u.map` */
  EDDY_VALUE_L = 7,    /* list: `u.list` */
  EDDY_VALUE_SS = 8,   /* string set: `u.set`, elements as for S */
  EDDY_VALUE_NS = 9,   /* number set: `u.set`, elements as for N */
  EDDY_VALUE_BS = 10   /* binary set: `u.set`, elements as for B */
} eddy_value_type_t;

/* DynamoDB Streams eventName. */
typedef enum eddy_event_name_t {
  EDDY_EVENT_INSERT = 1,
  EDDY_EVENT_MODIFY = 2,
  EDDY_EVENT_REMOVE = 3
} eddy_event_name_t;

/* eddy_record_t.flags */
/* REMOVE made by Time To Live, not by a user (Lambda: userIdentity
 * {type: "Service", principalId: "dynamodb.amazonaws.com"}). */
#define EDDY_RECORD_FLAG_TTL_DELETE 0x1u

/* eddy_batch_t.window_flags */
/* The batch belongs to a tumbling window; the window_* fields are valid. */
#define EDDY_WINDOW_ACTIVE 0x1u
/* isFinalInvokeForWindow: the last call for this window; the state returned
 * now is dropped afterwards. */
#define EDDY_WINDOW_FINAL 0x2u
/* isWindowTerminatedEarly: the window ended before its time (state too
 * large). */
#define EDDY_WINDOW_TERMINATED_EARLY 0x4u

/* Opaque host objects. */
typedef struct eddy_host_context_t eddy_host_context_t;
typedef struct eddy_result_t eddy_result_t;

/* A byte range. Fixed layout. Owner: whoever passes it (see Ownership). */
typedef struct eddy_buffer_t {
  const char* data; /* may be NULL when size == 0 */
  size_t size;
} eddy_buffer_t;

typedef struct eddy_value_t eddy_value_t;
typedef struct eddy_attribute_t eddy_attribute_t;

/* A DynamoDB attribute value: a tagged union, read the member `type` names.
 * Fixed layout. Owned by the host; valid during handle_batch only. */
struct eddy_value_t {
  uint32_t type;     /* eddy_value_type_t */
  uint32_t reserved; /* 0 */
  union {
    eddy_buffer_t scalar; /* S, N, B */
    uint32_t boolean;     /* BOOL */
    struct {
      const eddy_attribute_t* entries; /* `count` entries, names unique */
      size_t count;
    } map; /* M */
    struct {
      const eddy_value_t* items; /* `count` values, in list order */
      size_t count;
    } list; /* L */
    struct {
      const eddy_buffer_t* items; /* `count` distinct elements, no order */
      size_t count;
    } set; /* SS, NS, BS */
  } u;
};

/* One name/value pair of a map. Fixed layout. Owned by the host. */
struct eddy_attribute_t {
  eddy_buffer_t name;
  eddy_value_t value;
};

/* One stream record (Lambda's Records[i]). Growable. Owned by the host;
 * valid during handle_batch only. */
typedef struct eddy_record_t {
  uint32_t struct_size;
  uint32_t event_name;           /* eddy_event_name_t */
  eddy_buffer_t event_id;        /* eventID */
  eddy_buffer_t sequence_number; /* dynamodb.SequenceNumber: decimal digits;
                                    the itemIdentifier of a batch item
                                    failure */
  int64_t approximate_creation_time_ms; /* Unix epoch milliseconds */
  uint64_t size_bytes;                  /* dynamodb.SizeBytes */
  eddy_buffer_t event_source_arn;       /* the stream's ARN */
  eddy_buffer_t table_name;
  eddy_buffer_t stream_view_type; /* "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE" or
                                     "NEW_AND_OLD_IMAGES" */
  uint32_t flags;                 /* EDDY_RECORD_FLAG_* */
  uint32_t reserved;              /* 0 */
  const eddy_value_t* keys;       /* type M; never NULL */
  const eddy_value_t* old_image;  /* type M; NULL if the view or the event
                                     has none (INSERT) */
  const eddy_value_t* new_image;  /* type M; NULL if the view or the event
                                     has none (REMOVE) */
} eddy_record_t;

/* One invocation's input. Growable. Owned by the host; valid during
 * handle_batch only. */
typedef struct eddy_batch_t {
  uint32_t struct_size;
  uint32_t attempt;            /* 1 on first delivery, +1 per retry */
  eddy_buffer_t invocation_id; /* unique per invocation; for logs */
  eddy_buffer_t trigger_name;
  eddy_buffer_t event_source_arn; /* the stream's ARN */
  eddy_buffer_t shard_id;
  int64_t deadline_ms; /* Unix epoch ms when the host may give up on the
                          call; 0 if none */
  const eddy_record_t* const* records; /* `record_count` records in shard
                                          order; may be 0 in a final
                                          window call */
  size_t record_count;
  /* Tumbling window; meaningful when window_flags has EDDY_WINDOW_ACTIVE. */
  uint32_t window_flags;      /* EDDY_WINDOW_* */
  uint32_t reserved;          /* 0 */
  int64_t window_start_ms;    /* inclusive, Unix epoch ms */
  int64_t window_end_ms;      /* exclusive, Unix epoch ms */
  eddy_buffer_t window_state; /* state the previous call of this window
                                 returned; empty on its first call */
} eddy_batch_t;

/* Functions the host offers the handler. Growable: new functions are
 * appended; check EDDY_ABI_HAS_FIELD before calling one added after
 * version 1. Owned by the host; valid from eddy_handler_init until destroy
 * returns. */
typedef struct eddy_host_api_t {
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  /* Pass as the first argument of log. */
  eddy_host_context_t* context;

  /* Writes one log line (no trailing newline needed) at `level`, attributed
   * to this handler. Any thread; copies `message`. */
  void (*log)(eddy_host_context_t* context, eddy_log_level_t level,
              const char* message, size_t message_size);

  /* Marks the batch failed (the whole batch will be retried). `error_type`
   * (e.g. an exception's class name) may be empty. Copies both. Calling it
   * again replaces the previous failure. */
  eddy_status_t (*result_set_failure)(eddy_result_t* result,
                                      const char* error_type,
                                      size_t error_type_size,
                                      const char* error_message,
                                      size_t error_message_size);

  /* Reports one failed record by its sequence number (batchItemFailures[i]
   * .itemIdentifier). Copies it. Order and duplicates are kept. */
  eddy_status_t (*result_add_batch_item_failure)(eddy_result_t* result,
                                                 const char* sequence_number,
                                                 size_t sequence_number_size);

  /* Sets the tumbling window's new state (opaque bytes; may be empty).
   * Copies it. Calling it again replaces the previous state. */
  eddy_status_t (*result_set_window_state)(eddy_result_t* result,
                                           const void* state,
                                           size_t state_size);
} eddy_host_api_t;

/* The handler's side. Growable. Owned by the handler; valid until destroy
 * returns; the host only reads it. */
typedef struct eddy_handler_t {
  uint32_t struct_size; /* sizeof(eddy_handler_t) as the handler knows it */
  uint32_t abi_version; /* EDDY_HANDLER_ABI_VERSION the handler was built
                           with */
  /* Passed back to handle_batch and destroy; the handler's own state. */
  void* user_data;

  /* Required. Runs one batch and reports its outcome through `result` and
   * the host's result_* functions. Returns EDDY_STATUS_OK if `result` says
   * what happened, anything else to fail the whole batch. */
  eddy_status_t (*handle_batch)(void* user_data, const eddy_batch_t* batch,
                                eddy_result_t* result);

  /* Optional (may be NULL). Releases user_data and stops the handler's
   * threads; called once, after the last handle_batch. */
  void (*destroy)(void* user_data);
} eddy_handler_t;

/* The entry point, exported by every handler library.
 *
 * REQUIRES: host_abi_version is the host's EDDY_HANDLER_ABI_VERSION; `host`
 * and `handler` are not NULL.
 * Sets *handler to the handler's table (also when refusing the version) and
 * returns EDDY_STATUS_OK, EDDY_STATUS_VERSION_MISMATCH if the handler cannot
 * work with host_abi_version (it must then not read `host`), or another
 * status if its own initialisation failed. */
typedef eddy_status_t (*eddy_handler_init_fn)(uint32_t host_abi_version,
                                              const eddy_host_api_t* host,
                                              const eddy_handler_t** handler);

EDDY_HANDLER_EXPORT eddy_status_t
eddy_handler_init(uint32_t host_abi_version, const eddy_host_api_t* host,
                  const eddy_handler_t** handler);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDDY_FUNCTIONS_HANDLER_ABI_H_ */
