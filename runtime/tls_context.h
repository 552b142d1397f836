// TLS for the HTTP transport (http_server.cc), on OpenSSL 3.
//
// TlsContext: a certificate, its private key and the protocol settings,
// loaded from PEM files. TLS 1.2 and 1.3 only; for TLS 1.2 only
// forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305);
// TLS 1.3's suites are all of that kind. No renegotiation, no compression.
// Immutable once loaded: a reload builds a new one, and connections keep
// the context they started with (OpenSSL reference-counts it).
//
// TlsSession: the server side of one connection, driven through memory
// BIOs so that the socket stays libuv's: ciphertext read from the socket
// goes in with Receive(), plaintext comes out of Read(); plaintext goes in
// with Write() and the ciphertext to send (handshake messages, records,
// alerts) accumulates in output(). The handshake happens inside Read().
//
// States: new (nothing received) -> handshaking -> established ->
// (closed by peer | failed). After a failure, output() may hold an alert to
// send; nothing else works any more.
//
// Thread-safety: a TlsContext may be shared by all loop threads (NewSession
// is thread-safe); a TlsSession belongs to one connection, on one thread.
#ifndef EDDY_RUNTIME_TLS_CONTEXT_H_
#define EDDY_RUNTIME_TLS_CONTEXT_H_

#include <openssl/types.h>  // SSL, SSL_CTX, BIO (declarations only)

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "eddy/result.h"

namespace eddy::runtime {

class TlsSession;

class TlsContext {
 public:
  // Loads a PEM certificate (chain: the server's certificate first) and its
  // unencrypted PEM private key. InvalidArgument names the file and
  // OpenSSL's reason when either cannot be used or they do not match.
  static Result<std::shared_ptr<TlsContext>> Load(const std::string& cert_file,
                                                  const std::string& key_file);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  // A session for a newly accepted connection; null if OpenSSL is out of
  // memory.
  std::unique_ptr<TlsSession> NewSession() const;

  // "subject CN=..., serial 0x..., valid until 2027-01-01 00:00:00 GMT",
  // for the log.
  const std::string& description() const { return description_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}

  SSL_CTX* ctx_;
  std::string description_;
};

class TlsSession {
 public:
  enum class ReadStatus {
    kData,          // *size bytes of plaintext were read.
    kNeedInput,     // Everything received so far is consumed.
    kClosedByPeer,  // The peer sent close_notify.
    kFailed,        // Protocol error; see error().
  };

  // Takes ownership of `ssl`.
  explicit TlsSession(SSL* ssl);
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  // True once any ciphertext was received.
  bool started() const { return started_; }
  bool established() const;
  bool failed() const { return failed_; }
  // What went wrong, once failed().
  const std::string& error() const { return error_; }

  // Queues ciphertext from the socket for Read().
  void Receive(const char* data, size_t size);
  // Decrypts up to `capacity` bytes into `buffer`, advancing the handshake
  // first if needed.
  ReadStatus Read(char* buffer, size_t capacity, size_t* size);
  // Encrypts all of `plaintext` into output(). Returns false (and fails the
  // session) on an error.
  // REQUIRES: established() && !failed().
  bool Write(std::string_view plaintext);
  // Queues close_notify, once, if the session is established and has not
  // failed. Returns true if it queued it now.
  bool SendCloseNotify();

  // Ciphertext waiting to be sent; the caller takes bytes from it.
  std::string& output() { return output_; }

 private:
  // Moves what OpenSSL wrote to the network BIO into output_.
  void TakeOutput();
  void Fail();

  SSL* ssl_;
  BIO* network_in_;   // Owned by ssl_: ciphertext for OpenSSL to read.
  BIO* network_out_;  // Owned by ssl_: ciphertext OpenSSL wrote.
  std::string output_;
  std::string error_;
  bool started_ = false;
  bool failed_ = false;
  bool close_notify_sent_ = false;
};

}  // namespace eddy::runtime

#endif  // EDDY_RUNTIME_TLS_CONTEXT_H_
