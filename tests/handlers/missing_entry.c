/* missing_entry: a library with code but no eddy_handler_init (as if built
 * without EDDY_HANDLER); the host must refuse it by name. */
#include "eddy/functions/handler_abi.h"

/* Hidden by -fvisibility=hidden, and misnamed anyway. */
eddy_status_t eddy_handler_init_typo(uint32_t host_abi_version) {
  return host_abi_version == EDDY_HANDLER_ABI_VERSION ? EDDY_STATUS_OK
                                                      : EDDY_STATUS_ERROR;
}
