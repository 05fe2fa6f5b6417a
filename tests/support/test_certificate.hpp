// A self-signed certificate for localhost / 127.0.0.1, shared by the tests that need TLS
// (servers load it from memory; clients that must verify it write it to a temp file).
#pragma once

#include <atomic>
#include <fstream>
#include <string>
#include <unistd.h>

namespace parley::test {

// A self-signed certificate for localhost / 127.0.0.1 (EC P-256, valid until 2126), test only.
inline constexpr const char *kTestCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUGggu2Bh5de3tY4emjXm1PJOoYvAwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcGFybGV5IHRlc3QwIBcNMjYxMTIxMDYwNDE5WhgPMjEyNjEw
MjgwNjA0MTlaMBYxFDASBgNVBAMMC3BhcmxleSB0ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEBVpt/WjpQ0AkzER1NfS9wKGORcOZQpWsEwoEmBghxkeYQ+Ev
c+3pphu0NV/C5kiXhXu901PZDJOuGFqf7vXGj6NvMG0wHQYDVR0OBBYEFG04ftCG
FJgZNtiNkZuUlur0w1a3MB8GA1UdIwQYMBaAFG04ftCGFJgZNtiNkZuUlur0w1a3
MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMAoG
CCqGSM49BAMCA0gAMEUCICfn4DNy5IHN4TSJnmFUtPseaq5HshjRUeYMTYqp/1K5
AiEA67Xvc3ndtx90wqh5n6doh9qM5zIhadVnQ+LQ6xS4rfo=
-----END CERTIFICATE-----
)";
inline constexpr const char *kTestPrivateKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzLrfUeMDhi+Y8rhV
huaFk1yZwvJHwMT3Y0Tm3PxVbFChRANCAAQFWm39aOlDQCTMRHU19L3AoY5Fw5lC
lawTCgSYGCHGR5hD4S9z7emmG7Q1X8LmSJeFe73TU9kMk64YWp/u9caP
-----END PRIVATE KEY-----
)";

/// Writes the certificate to a unique temp file (a CA file for verifying clients); the caller
/// removes it.
inline std::string write_test_certificate_file() {
  static std::atomic<int> counter{0};
  std::string path = "/tmp/parley-test-ca-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + ".pem";
  std::ofstream(path) << kTestCertificate;
  return path;
}

}  // namespace parley::test
