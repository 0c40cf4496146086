#pragma once
// Internal to cablecast_auth: the OpenSSL digest behind each Digest.
#include <openssl/evp.h>

#include "auth/hmac.hpp"

namespace cablecast::auth {

const EVP_MD* openssl_digest(Digest digest);

}  // namespace cablecast::auth
