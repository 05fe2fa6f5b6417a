// A throwaway certificate authority and a server certificate it signed, generated once per
// process with OpenSSL (EC P-256, SHA-256), so TLS tests need no files in the source tree:
// a client given ca_file verifies the fake; a client using the system store does not.
#pragma once

#include <string>

namespace parley::fakes {

struct TestCertificates {
  std::string ca_pem;       // the CA certificate (what a client trusts)
  std::string cert_pem;     // server certificate for 127.0.0.1, ::1 and localhost
  std::string key_pem;      // its private key
  std::string ca_file;      // ca_pem written to a temporary file
};

/// Generated on first use; thread-safe. Throws std::runtime_error when OpenSSL fails.
const TestCertificates &test_certificates();

}  // namespace parley::fakes
