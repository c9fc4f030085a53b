// The TLS flags and files (serve --tls-cert, --tls-key, --tls-client-ca): which combinations
// start, and what each wrong file is answered with. Keys and certificates are made here with
// OpenSSL's API.
#include "frontend/http/tls_config.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace switchyard::http {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key NewKey() { return Key(EVP_EC_gen("P-256")); }

Cert SelfSigned(EVP_PKEY* key, const char* name) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

std::string ToPem(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  return ToPem(bio);
}

std::string KeyPem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (passphrase != nullptr) {
    PEM_write_bio_PrivateKey(bio, key, EVP_aes_128_cbc(), nullptr, 0, nullptr,
                             const_cast<char*>(passphrase));
  } else {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  return ToPem(bio);
}

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/switchyard-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    key_ = NewKey();
    cert_ = SelfSigned(key_.get(), "server");
    files_.cert_file = Write("cert.pem", CertPem(cert_.get()));
    files_.key_file = Write("key.pem", KeyPem(key_.get()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
  Key key_;
  Cert cert_;
  TlsFiles files_;
};

TEST(TlsFlagsTest, NoneOrCertAndKeyWithOrWithoutClientCa) {
  EXPECT_TRUE(CheckTlsFlags({}).ok());
  EXPECT_TRUE(CheckTlsFlags({.cert_file = "c", .key_file = "k"}).ok());
  EXPECT_TRUE(CheckTlsFlags({.cert_file = "c", .key_file = "k", .client_ca_file = "a"}).ok());
}

TEST(TlsFlagsTest, OneWithoutTheOtherNamesTheMissingFlag) {
  Status cert_alone = CheckTlsFlags({.cert_file = "c"});
  EXPECT_FALSE(cert_alone.ok());
  EXPECT_NE(cert_alone.message().find("--tls-cert needs --tls-key"), std::string::npos)
      << cert_alone.message();
  Status key_alone = CheckTlsFlags({.key_file = "k"});
  EXPECT_FALSE(key_alone.ok());
  EXPECT_NE(key_alone.message().find("--tls-key needs --tls-cert"), std::string::npos)
      << key_alone.message();
  Status ca_alone = CheckTlsFlags({.client_ca_file = "a"});
  EXPECT_FALSE(ca_alone.ok());
  EXPECT_NE(ca_alone.message().find("--tls-client-ca needs --tls-cert"), std::string::npos)
      << ca_alone.message();
  EXPECT_FALSE(CheckTlsFlags({.cert_file = "c", .client_ca_file = "a"}).ok());
}

TEST_F(TlsFilesTest, AGoodPairLoadsAndMakesAContextForTls12AndUp) {
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->cert_chain_pem, CertPem(cert_.get()));
  EXPECT_TRUE(loaded->client_ca_pem.empty());
  auto context = NewServerSslContext(*loaded);
  ASSERT_TRUE(context.ok()) << context.status().message();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context->get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(context->get()), SSL_VERIFY_NONE);  // no client cert asked
}

TEST_F(TlsFilesTest, AClientCaRequiresClientCertificates) {
  Key ca_key = NewKey();
  Cert ca = SelfSigned(ca_key.get(), "clients");
  files_.client_ca_file = Write("ca.pem", CertPem(ca.get()));
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto context = NewServerSslContext(*loaded);
  ASSERT_TRUE(context.ok()) << context.status().message();
  EXPECT_EQ(SSL_CTX_get_verify_mode(context->get()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(context->get())), 1);
}

TEST_F(TlsFilesTest, AMissingFileIsNamedWithItsFlag) {
  files_.key_file = dir_ + "/absent.pem";
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_FALSE(loaded.ok());
  const std::string message = loaded.status().message();
  EXPECT_NE(message.find("--tls-key " + files_.key_file), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;
}

TEST_F(TlsFilesTest, AKeyOfAnotherCertificateIsRefused) {
  Key other = NewKey();
  files_.key_file = Write("other.pem", KeyPem(other.get()));
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_FALSE(loaded.ok());
  const std::string message = loaded.status().message();
  EXPECT_NE(message.find("does not belong to --tls-cert " + files_.cert_file), std::string::npos)
      << message;
  EXPECT_NE(message.find("--tls-key " + files_.key_file), std::string::npos) << message;
}

TEST_F(TlsFilesTest, NotPemIsRefusedWithOpenSslsReason) {
  files_.cert_file = Write("garbage.pem", "not a certificate\n");
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("--tls-cert " + files_.cert_file +
                                           " holds no PEM "
                                           "certificate: "),
            std::string::npos)
      << loaded.status().message();
}

TEST_F(TlsFilesTest, AnEncryptedKeyIsRefusedWithoutAPrompt) {
  files_.key_file = Write("encrypted.pem", KeyPem(key_.get(), "secret"));
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("holds no unencrypted PEM private key"),
            std::string::npos)
      << loaded.status().message();
}

TEST_F(TlsFilesTest, AClientCaWithoutCertificatesIsRefused) {
  files_.client_ca_file = Write("empty-ca.pem", "");
  EXPECT_FALSE(LoadTlsCredentials(files_).ok());
  files_.client_ca_file = Write("garbage-ca.pem", "junk\n");
  auto loaded = LoadTlsCredentials(files_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("--tls-client-ca " + files_.client_ca_file),
            std::string::npos)
      << loaded.status().message();
}

}  // namespace
}  // namespace switchyard::http
