// Certificate generation with the OpenSSL 3 API (the openssl CLI would need a config file
// and a subprocess per test binary).
#include "fakes/test_ca.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace parley::fakes {
namespace {

struct Free {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
  void operator()(X509 *p) const { X509_free(p); }
  void operator()(BIO *p) const { BIO_free(p); }
  void operator()(X509_EXTENSION *p) const { X509_EXTENSION_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

void check(bool ok, const char *what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what + " failed");
}

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

void add_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  check(ext != nullptr, "certificate extension");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// A certificate for `subject_cn` with `key`, signed by `issuer` (itself when null).
Cert make_cert(EVP_PKEY *key, const char *subject_cn, X509 *issuer, EVP_PKEY *issuer_key, long serial, bool ca) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME *name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("parley fakes"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(subject_cn), -1, -1, 0);
  X509 *signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
  }
  check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string bio_string(BIO *bio) {
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string cert_pem(X509 *cert) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return bio_string(bio.get());
}

std::string key_pem(EVP_PKEY *key) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
  return bio_string(bio.get());
}

// The CA file lives in a private temporary directory, removed when the process exits.
std::string write_ca_file(const std::string &pem) {
  std::string dir = (std::filesystem::temp_directory_path() / "parley-fakes-XXXXXX").string();
  std::vector<char> templ(dir.begin(), dir.end());
  templ.push_back('\0');
  check(mkdtemp(templ.data()) != nullptr, "mkdtemp");
  static std::string created_dir;
  created_dir = templ.data();
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(created_dir, ignored);
  });
  const std::string path = created_dir + "/ca.pem";
  std::ofstream out(path, std::ios::binary);
  out << pem;
  check(static_cast<bool>(out.flush()), "writing the CA file");
  return path;
}

TestCertificates generate() {
  const Key ca_key = make_key();
  const Cert ca = make_cert(ca_key.get(), "parley fakes test CA", nullptr, nullptr, 1, true);
  const Key server_key = make_key();
  const Cert server = make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), 2, false);
  TestCertificates result;
  result.ca_pem = cert_pem(ca.get());
  result.cert_pem = cert_pem(server.get());
  result.key_pem = key_pem(server_key.get());
  result.ca_file = write_ca_file(result.ca_pem);
  return result;
}

}  // namespace

const TestCertificates &test_certificates() {
  static const TestCertificates certificates = generate();
  return certificates;
}

}  // namespace parley::fakes
