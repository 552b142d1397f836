#include "tls_context.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

namespace eddy::runtime {
namespace {

// TLS 1.2: ECDHE key exchange (forward secrecy) with AEAD ciphers only, in
// Mozilla's "intermediate" order. TLS 1.3 suites are all ECDHE + AEAD.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
    "TLS_CHACHA20_POLY1305_SHA256";

// Plaintext handed to one SSL_write: a few records, so the network BIO
// holds at most about this much before it is drained into output().
constexpr size_t kWriteChunk = 64 * 1024;

// Drains OpenSSL's (thread-local) error queue into one line.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// Encrypted keys would make OpenSSL prompt on the terminal; refuse them.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/,
                 void* /*userdata*/) noexcept {
  return -1;
}

std::string Describe(X509* cert) {
  std::string out = "subject ";
  char name[256];
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
  out += name;
  if (BIGNUM* serial =
          ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      out += ", serial 0x";
      out += hex;
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* text = nullptr;
      long length = BIO_get_mem_data(bio, &text);
      out += ", valid until ";
      out.append(text, static_cast<size_t>(length));
    }
    BIO_free(bio);
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    out += " (EXPIRED)";
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// TlsContext.

Result<std::shared_ptr<TlsContext>> TlsContext::Load(
    const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return Status::Internal("SSL_CTX_new: " + OpenSslErrors());
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx));
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
    return Status::Internal("configuring TLS: " + OpenSslErrors());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle keep-alive connections hold no record buffers (as nginx does).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(ctx, &NoPassphrase);

  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("cannot use TLS certificate " + cert_file +
                                   ": " + OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) !=
      1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return Status::InvalidArgument("TLS private key " + key_file +
                                     " does not match certificate " +
                                     cert_file + ": " + OpenSslErrors());
    }
    return Status::InvalidArgument(
        "cannot use TLS private key " + key_file +
        " (a PEM key without a passphrase is needed): " + OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument("TLS private key " + key_file +
                                   " does not match certificate " + cert_file +
                                   ": " + OpenSslErrors());
  }
  context->description_ = Describe(SSL_CTX_get0_certificate(ctx));
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsSession> TlsContext::NewSession() const {
  SSL* ssl = SSL_new(ctx_);  // Holds a reference to ctx_.
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  return std::make_unique<TlsSession>(ssl);
}

// ---------------------------------------------------------------------------
// TlsSession.

TlsSession::TlsSession(SSL* ssl)
    : ssl_(ssl),
      network_in_(BIO_new(BIO_s_mem())),
      network_out_(BIO_new(BIO_s_mem())) {
  // An empty input BIO means "retry later", not end of file.
  if (network_in_ != nullptr) BIO_set_mem_eof_return(network_in_, -1);
  if (network_out_ != nullptr) BIO_set_mem_eof_return(network_out_, -1);
  if (network_in_ == nullptr || network_out_ == nullptr) {
    BIO_free(network_in_);
    BIO_free(network_out_);
    network_in_ = network_out_ = nullptr;
    error_ = "out of memory";
    failed_ = true;
    return;
  }
  SSL_set_bio(ssl_, network_in_, network_out_);  // ssl_ owns both now.
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

bool TlsSession::established() const {
  return !failed_ && SSL_is_init_finished(ssl_) == 1;
}

void TlsSession::Receive(const char* data, size_t size) {
  started_ = true;
  if (failed_ || size == 0) return;
  // A memory BIO takes everything (or fails for lack of memory).
  if (BIO_write(network_in_, data, static_cast<int>(size)) !=
      static_cast<int>(size)) {
    Fail();
  }
}

TlsSession::ReadStatus TlsSession::Read(char* buffer, size_t capacity,
                                        size_t* size) {
  *size = 0;
  if (failed_) return ReadStatus::kFailed;
  // Nothing received and nothing decrypted waiting: SSL_read could only say
  // so, at the cost of a trip through its state machine.
  if (BIO_ctrl_pending(network_in_) == 0 && SSL_pending(ssl_) == 0) {
    return ReadStatus::kNeedInput;
  }
  // SSL_get_error needs the thread's error queue empty before the call.
  // Fail() drains it, but other code on the loop thread (the handler) may
  // have left something; peeking is much cheaper than clearing every time.
  if (ERR_peek_error() != 0) ERR_clear_error();
  const int n = SSL_read(ssl_, buffer,
                         static_cast<int>(std::min<size_t>(capacity, 1 << 30)));
  const int error = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
  // Handshake messages, session tickets, key updates or an alert.
  TakeOutput();
  switch (error) {
    case SSL_ERROR_NONE:
      *size = static_cast<size_t>(n);
      return ReadStatus::kData;
    case SSL_ERROR_WANT_READ:
      return ReadStatus::kNeedInput;
    case SSL_ERROR_ZERO_RETURN:
      return ReadStatus::kClosedByPeer;
    default:
      Fail();
      return ReadStatus::kFailed;
  }
}

bool TlsSession::Write(std::string_view plaintext) {
  if (failed_) return false;
  while (!plaintext.empty()) {
    const size_t chunk = std::min(plaintext.size(), kWriteChunk);
    // Without partial writes, SSL_write takes all of `chunk` or fails; a
    // memory BIO never pushes back.
    const int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(chunk));
    if (n <= 0) {
      Fail();
      return false;
    }
    plaintext.remove_prefix(static_cast<size_t>(n));
    TakeOutput();
  }
  return true;
}

bool TlsSession::SendCloseNotify() {
  if (close_notify_sent_ || !established()) return false;
  close_notify_sent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // 0: sent, the peer's is not awaited.
  ERR_clear_error();
  TakeOutput();
  return true;
}

void TlsSession::TakeOutput() {
  if (network_out_ == nullptr) return;
  const size_t pending = BIO_ctrl_pending(network_out_);
  if (pending == 0) return;
  const size_t old_size = output_.size();
  output_.resize(old_size + pending);
  const int n = BIO_read(network_out_, output_.data() + old_size,
                         static_cast<int>(pending));
  output_.resize(old_size + static_cast<size_t>(std::max(n, 0)));
}

void TlsSession::Fail() {
  failed_ = true;
  error_ = OpenSslErrors();
  // Whatever the error queue says, OpenSSL may have written an alert.
  TakeOutput();
}

}  // namespace eddy::runtime
