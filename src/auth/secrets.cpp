#include "auth/secrets.hpp"

#include "auth/openssl_digest.hpp"
#include "core/assert.hpp"

namespace cablecast::auth {

// AnyCable: the secret is the HMAC *key* and the phrase the *data*. broadcast/http.go signs the
// phrase "broadcast-cable" with NewMessageVerifier(secretBase).Sign (HMAC-SHA256 keyed by the
// secret, "%x"), rpc/rpc.go does the same with "rpc-cable", and docs/broadcasting.md and
// docs/rpc.md give the Ruby equivalent OpenSSL::HMAC.hexdigest("SHA256", secret, phrase). The
// JWT and streams secrets default to the secret itself (cli/options.go).
DerivedSecrets derive_from_secret(std::string_view secret) {
  return DerivedSecrets{
      .broadcast_key = hmac_sha256_hex(secret, "broadcast-cable"),
      .rpc_secret = hmac_sha256_hex(secret, "rpc-cable"),
      .jwt_secret = std::string(secret),
      .streams_secret = std::string(secret),
  };
}

// Rails: KeyGenerator.new(secret_key_base, iterations: 1000) (railties application.rb) and
// KeyGenerator#generate_key(salt, key_size = 64) =
// OpenSSL::PKCS5.pbkdf2_hmac(secret, salt, iterations, key_size, hash_digest_class.new)
// (activesupport key_generator.rb); turbo-rails' engine.rb passes the salt below.
std::string turbo_signing_key(std::string_view secret_key_base, Digest digest) {
  static constexpr std::string_view salt = "turbo/signed_stream_verifier_key";
  static constexpr int iterations = 1000;
  static constexpr std::size_t key_size = 64;
  std::string key(key_size, '\0');
  const int ok =
      PKCS5_PBKDF2_HMAC(secret_key_base.data(), static_cast<int>(secret_key_base.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, openssl_digest(digest),
                        static_cast<int>(key.size()), reinterpret_cast<unsigned char*>(key.data()));
  // PBKDF2 fails only when OpenSSL cannot allocate: nothing to recover.
  CABLE_ASSERT(ok == 1);
  return key;
}

}  // namespace cablecast::auth
