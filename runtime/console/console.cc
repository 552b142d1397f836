#include "console/console.h"

#include <string>

namespace eddy::runtime::console {
namespace {

constexpr std::string_view kPrefix = "/console/";

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

void AddSecurityHeaders(HttpResponse* response) {
  auto& h = response->headers;
  // Only the console's own files run; the page talks to this origin only.
  h.emplace_back("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; "
                 "img-src 'self' data:; connect-src 'self'; form-action "
                 "'none'; frame-ancestors 'none'; base-uri 'none'");
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Referrer-Policy", "no-referrer");
  // The files change with the server binary: always revalidate.
  h.emplace_back("Cache-Control", "no-cache");
}

}  // namespace

bool IsConsolePath(std::string_view path) {
  return path == "/console" || path.starts_with(kPrefix);
}

void ServeConsole(std::string_view path, HttpResponse* response) {
  AddSecurityHeaders(response);
  if (path == "/console") {
    response->status = 301;
    response->headers.emplace_back("Location", std::string(kPrefix));
    response->headers.emplace_back("Content-Type", "text/plain");
    response->body = "Moved to /console/\n";
    return;
  }
  std::string_view name = path.substr(kPrefix.size());
  if (name.empty()) name = "index.html";
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& file = kEmbeddedFiles[i];
    if (name != file.name) continue;
    response->headers.emplace_back("Content-Type",
                                   std::string(ContentType(name)));
    response->body.assign(reinterpret_cast<const char*>(file.data), file.size);
    return;
  }
  response->status = 404;
  response->headers.emplace_back("Content-Type", "text/plain");
  response->body =
      "Not found: the console has no file " + std::string(path) + "\n";
}

}  // namespace eddy::runtime::console
