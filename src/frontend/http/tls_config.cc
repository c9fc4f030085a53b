#include "frontend/http/tls_config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fmt/format.h"

namespace switchyard::http {
namespace {

// TLS 1.2 suites: ECDHE key exchange and AEAD ciphers only (Mozilla's "intermediate" list less
// the finite-field DHE ones). TLS 1.3 suites are OpenSSL's defaults, all of them AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Session resumption with client certificates needs a context id (OpenSSL refuses to resume a
// session without one when peers are verified).
constexpr unsigned char kSessionIdContext[] = "switchyard";

// OpenSSL's queued errors as one line ("key values mismatch; ..."), and the queue cleared.
std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
  }
  return out.empty() ? "no reason given" : out;
}

// Refuses to decrypt an encrypted key instead of prompting on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& text) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// What to call each input in messages: the flag and its file, or a plain name.
struct Names {
  std::string cert = "the certificate";
  std::string key = "the private key";
  std::string client_ca = "the client CA";
};

Status UseCertificateChain(SSL_CTX* context, const std::string& pem, const Names& names) {
  auto bio = MemoryBio(pem);
  std::unique_ptr<X509, X509Deleter> leaf(
      PEM_read_bio_X509_AUX(bio.get(), nullptr, NoPassphrase, nullptr));
  if (leaf == nullptr) {
    return InvalidArgument(
        fmt::format("{} holds no PEM certificate: {}", names.cert, TakeOpenSslErrors()));
  }
  if (SSL_CTX_use_certificate(context, leaf.get()) != 1) {
    return InvalidArgument(fmt::format("{} cannot be used: {}", names.cert, TakeOpenSslErrors()));
  }
  while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(context, next) != 1) {  // takes `next` on success
      X509_free(next);
      return InvalidArgument(fmt::format("{}: a chain certificate cannot be used: {}", names.cert,
                                         TakeOpenSslErrors()));
    }
  }
  ERR_clear_error();  // the end of the PEM data, reported as an error
  return Status::Ok();
}

Status UsePrivateKey(SSL_CTX* context, const std::string& pem, const Names& names) {
  auto bio = MemoryBio(pem);
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return InvalidArgument(
        fmt::format("{} holds no unencrypted PEM private key: {}", names.key, TakeOpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    return InvalidArgument(
        fmt::format("{} does not belong to {}: {}", names.key, names.cert, TakeOpenSslErrors()));
  }
  return Status::Ok();
}

// Trusts the CA certificates of `pem` for client certificates, names them to clients as the
// acceptable issuers, and requires a client certificate.
Status RequireClientCertificates(SSL_CTX* context, const std::string& pem, const Names& names) {
  auto bio = MemoryBio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  int count = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    std::unique_ptr<X509, X509Deleter> owned(ca);
    if (X509_STORE_add_cert(store, ca) != 1 || SSL_CTX_add_client_CA(context, ca) != 1) {
      return InvalidArgument(fmt::format("{}: a certificate cannot be used: {}", names.client_ca,
                                         TakeOpenSslErrors()));
    }
    ++count;
  }
  if (count == 0) {
    return InvalidArgument(
        fmt::format("{} holds no PEM certificate: {}", names.client_ca, TakeOpenSslErrors()));
  }
  ERR_clear_error();
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return Status::Ok();
}

StatusOr<SslContextPtr> MakeContext(const TlsCredentials& credentials, const Names& names) {
  ERR_clear_error();
  SslContextPtr context(SSL_CTX_new(TLS_server_method()));
  if (context == nullptr) {
    return Internal(fmt::format("cannot make a TLS context: {}", TakeOpenSslErrors()));
  }
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Internal(fmt::format("cannot set the TLS 1.2 ciphers: {}", TakeOpenSslErrors()));
  }
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  RETURN_IF_ERROR(UseCertificateChain(ctx, credentials.cert_chain_pem, names));
  RETURN_IF_ERROR(UsePrivateKey(ctx, credentials.private_key_pem, names));
  if (!credentials.client_ca_pem.empty()) {
    RETURN_IF_ERROR(RequireClientCertificates(ctx, credentials.client_ca_pem, names));
  }
  return context;
}

Status ReadFile(const std::string& flag, const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(fmt::format("{} {}: cannot read: {}", flag, path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return InvalidArgument(fmt::format("{} {}: cannot read: {}", flag, path, std::strerror(errno)));
  }
  *out = std::move(text).str();
  return Status::Ok();
}

}  // namespace

void SslContextDeleter::operator()(SSL_CTX* context) const { SSL_CTX_free(context); }

Status CheckTlsFlags(const TlsFiles& files) {
  if (!files.any()) return Status::Ok();
  if (files.cert_file.empty()) {
    return InvalidArgument(files.key_file.empty()
                               ? "--tls-client-ca needs --tls-cert and --tls-key (the server's "
                                 "own certificate and key)"
                               : "--tls-key needs --tls-cert (the certificate it belongs to)");
  }
  if (files.key_file.empty()) {
    return InvalidArgument("--tls-cert needs --tls-key (the certificate's private key)");
  }
  return Status::Ok();
}

StatusOr<TlsCredentials> LoadTlsCredentials(const TlsFiles& files) {
  TlsCredentials credentials;
  RETURN_IF_ERROR(ReadFile("--tls-cert", files.cert_file, &credentials.cert_chain_pem));
  RETURN_IF_ERROR(ReadFile("--tls-key", files.key_file, &credentials.private_key_pem));
  if (!files.client_ca_file.empty()) {
    RETURN_IF_ERROR(ReadFile("--tls-client-ca", files.client_ca_file, &credentials.client_ca_pem));
    if (credentials.client_ca_pem.empty()) {
      return InvalidArgument(
          fmt::format("--tls-client-ca {}: the file is empty", files.client_ca_file));
    }
  }
  Names names{.cert = "--tls-cert " + files.cert_file,
              .key = "--tls-key " + files.key_file,
              .client_ca = "--tls-client-ca " + files.client_ca_file};
  auto context = MakeContext(credentials, names);
  if (!context.ok()) return context.status();
  return credentials;
}

StatusOr<SslContextPtr> NewServerSslContext(const TlsCredentials& credentials) {
  return MakeContext(credentials, Names{});
}

}  // namespace switchyard::http
