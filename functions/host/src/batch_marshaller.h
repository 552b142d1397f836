// BatchMarshaller: builds the C view (eddy_batch_t and everything it points
// to, handler_abi.h) of a HostBatch.
//
// Strings are not copied: the view points into the HostBatch's std::strings
// (which are NUL-terminated, as the ABI promises). Structs and arrays live in
// a few vectors sized in a first pass, so their addresses are stable and a
// reused marshaller allocates nothing once it has seen its largest batch.
//
// Thread-safety: none; one batch at a time.
#ifndef EDDY_FUNCTIONS_HOST_BATCH_MARSHALLER_H_
#define EDDY_FUNCTIONS_HOST_BATCH_MARSHALLER_H_

#include <cstddef>
#include <vector>

#include "eddy/functions/handler_abi.h"
#include "eddy/functions/host_batch.h"
#include "eddy/status.h"

namespace eddy::functions {

class BatchMarshaller {
 public:
  // DynamoDB allows 32 levels of nesting; deeper input is refused rather than
  // recursed into.
  static constexpr int kMaxDepth = 64;

  // Builds the view of `batch`. Fails with InvalidArgument if keys or an
  // image is not a map, or values nest deeper than kMaxDepth.
  // The view (batch()) is valid until the next Build and while `batch` is
  // alive and unmodified.
  Status Build(const HostBatch& batch);

  // REQUIRES: the last Build succeeded.
  const eddy_batch_t& batch() const { return batch_; }

 private:
  struct Counts {
    size_t values = 0;
    size_t attributes = 0;
    size_t buffers = 0;
  };

  static Status Count(const HostValue& v, int depth, Counts& counts);
  static Status CountImage(const HostValue& v, const char* what,
                           Counts& counts);
  void Fill(const HostValue& v, eddy_value_t& out);
  eddy_value_t* AddRoot(const HostValue& v);

  eddy_batch_t batch_{};
  std::vector<eddy_record_t> records_;
  std::vector<const eddy_record_t*> record_pointers_;
  std::vector<eddy_value_t> values_;
  std::vector<eddy_attribute_t> attributes_;
  std::vector<eddy_buffer_t> buffers_;
  size_t next_value_ = 0;
  size_t next_attribute_ = 0;
  size_t next_buffer_ = 0;
};

}  // namespace eddy::functions

#endif  // EDDY_FUNCTIONS_HOST_BATCH_MARSHALLER_H_
