// The web console: static files (runtime/console/web/: HTML, JavaScript,
// CSS, no build step) compiled into the server by cmake/EmbedFiles.cmake
// and served at /console/ on the API port.
//
// The files hold no data and are public; everything the page shows it
// fetches from the server's own APIs (DynamoDB, DynamoDB Streams and the
// trigger admin API) with requests it signs itself (SigV4, keys kept in
// the tab's sessionStorage), so each access is authenticated and
// authorized like any client's. Responses carry a Content-Security-Policy
// that allows only the page's own scripts, styles and same-origin
// requests, and forbid framing and MIME sniffing.
//
// Thread-safety: ServeConsole() is a pure function of its arguments and
// the embedded files; call it from any thread.
#ifndef EDDY_RUNTIME_CONSOLE_CONSOLE_H_
#define EDDY_RUNTIME_CONSOLE_CONSOLE_H_

#include <cstddef>
#include <string_view>

#include "http_server.h"

namespace eddy::runtime::console {

struct EmbeddedFile {
  const char* name;  // Relative to runtime/console/web/: "console.js".
  const unsigned char* data;
  size_t size;
};

// Defined in the generated console_files.cc.
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

// True when `path` (a request-target without its query) is the console's:
// "/console" or below "/console/".
bool IsConsolePath(std::string_view path);

// Answers a GET of a console path: "/console" redirects to "/console/",
// which is index.html; "/console/<file>" is that file; anything else under
// it is 404.
// REQUIRES: IsConsolePath(path).
void ServeConsole(std::string_view path, HttpResponse* response);

}  // namespace eddy::runtime::console

#endif  // EDDY_RUNTIME_CONSOLE_CONSOLE_H_
