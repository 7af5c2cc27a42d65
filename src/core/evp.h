// OpenSSL's implementations, fetched from the provider once. Handing
// EVP_sha256() to EVP_DigestInit_ex makes OpenSSL 3 look the implementation
// up again, under a lock, on every init, which costs more than hashing a
// short message. Only .cc files include this header, to keep OpenSSL's
// headers out of ours.
#pragma once

#include <openssl/evp.h>

namespace interlock {

// SHA-256; aborts the process if the provider has none, since nothing that
// hashes could work.
const EVP_MD* Sha256Md();

}  // namespace interlock
