// The POSIX FileSystem (FileSystem::Default()) and the errno helper it uses.
// Private to streams; everything else reaches files through a FileSystem.
#ifndef EDDY_STREAMS_SRC_POSIX_FILE_H_
#define EDDY_STREAMS_SRC_POSIX_FILE_H_

#include <string>
#include <string_view>

#include "eddy/status.h"
#include "eddy/streams/file_system.h"

namespace eddy::streams {

// "<what> <path>: <strerror(err)>" as IOError.
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

}  // namespace eddy::streams

#endif  // EDDY_STREAMS_SRC_POSIX_FILE_H_
