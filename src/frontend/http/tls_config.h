#pragma once
// TLS for the front ends (`serve --tls-cert --tls-key [--tls-client-ca]`): which files were
// named, their contents read once and checked by OpenSSL, and the server-side OpenSSL context
// the HTTP front end runs on. The gRPC front end takes the same PEM text (TlsCredentials) and
// hands it to gRPC's own TLS.
//
// What a context made here does: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key exchange with
// AEAD ciphers (AES-GCM, ChaCha20-Poly1305); no compression, no renegotiation; with a client CA,
// every client must present a certificate that chains to it (the handshake fails otherwise),
// without one no client certificate is asked for. An encrypted private key is refused (there is
// no prompt for a passphrase).
//
// Thread-safety: free functions without shared state; an SSL_CTX made here may serve many
// connections on many threads at once (OpenSSL's own locking).

#include <memory>
#include <string>

#include "switchyard/status.h"

typedef struct ssl_ctx_st SSL_CTX;  // OpenSSL's, so that this header needs no OpenSSL include

namespace switchyard::http {

// The files named on the command line; "" = not given.
struct TlsFiles {
  std::string cert_file;       // PEM: the server's certificate, then its chain (leaf first)
  std::string key_file;        // PEM: the certificate's private key, unencrypted
  std::string client_ca_file;  // PEM: the CA(s) client certificates must chain to

  bool any() const { return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty(); }
};

// Checks the combination of flags without reading anything: none at all (plaintext), or both
// cert and key, with or without a client CA. The message names the missing flag.
Status CheckTlsFlags(const TlsFiles& files);

// The contents of the files, as read at startup.
struct TlsCredentials {
  std::string cert_chain_pem;
  std::string private_key_pem;
  std::string client_ca_pem;  // "": clients are not asked for a certificate
};

// Reads the files and checks them by making a server context of them: the certificate chain
// parses, the key parses and belongs to the certificate, the client CA file holds at least one
// certificate. Errors name the flag, the file and OpenSSL's reason.
// REQUIRES: CheckTlsFlags(files).ok() and files.any().
StatusOr<TlsCredentials> LoadTlsCredentials(const TlsFiles& files);

struct SslContextDeleter {
  void operator()(SSL_CTX* context) const;
};
using SslContextPtr = std::unique_ptr<SSL_CTX, SslContextDeleter>;

// A server context as described at the top of this file, from credentials. Errors carry
// OpenSSL's reason.
StatusOr<SslContextPtr> NewServerSslContext(const TlsCredentials& credentials);

}  // namespace switchyard::http
