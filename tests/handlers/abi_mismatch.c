/* abi_mismatch: written in C against the raw ABI; declares an ABI version
 * the host does not support (one past the current one) and otherwise looks
 * healthy, so the host's version check alone must refuse it. */
#include "eddy/functions/handler_abi.h"

static eddy_status_t handle_batch(void* user_data, const eddy_batch_t* batch,
                                  eddy_result_t* result) {
  (void)user_data;
  (void)batch;
  (void)result;
  return EDDY_STATUS_OK;
}

static const eddy_handler_t kHandler = {
    sizeof(eddy_handler_t), EDDY_HANDLER_ABI_VERSION + 1u, 0, handle_batch, 0};

eddy_status_t eddy_handler_init(uint32_t host_abi_version,
                                const eddy_host_api_t* host,
                                const eddy_handler_t** handler) {
  (void)host_abi_version;
  (void)host;
  *handler = &kHandler;
  return EDDY_STATUS_OK;
}
