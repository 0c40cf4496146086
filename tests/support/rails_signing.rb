# Signs and verifies stream names with the real ActiveSupport (Debian's ruby-activesupport), for
# tests/unit/auth (our MessageVerifier and Turbo key derivation must agree with Rails byte for
# byte) and for the integration tests' signed names (tests/support/rails_signing.mjs).
# Usage: ruby rails_signing.rb '<JSON array of requests>'; prints a JSON array of results,
# one per request:
#   {"op":"sign","digest":"SHA256","key_hex":"…","name":"room"}     -> "<signed>"
#   {"op":"sign_url_safe","digest":"SHA256","key_hex":"…","name":"…"} -> "<signed>" (Rails 7.1
#                                                        url_safe: true, built by hand on older)
#   {"op":"verify","digest":"SHA256","key_hex":"…","signed":"…"}      -> the name, or null
#   {"op":"turbo_key","digest":"SHA256","secret_key_base":"…"}        -> the key in hex
#   {"op":"turbo_sign","name":"room", and either "verifier_key":"…" (config.turbo.
#    signed_stream_verifier_key, as AnyCable's setup writes it) or "secret_key_base":"…" with
#    "digest":"SHA256"|"SHA1" (the key Rails.application.key_generator derives)}
#                                       -> what Turbo.signed_stream_verifier.generate(name) gives
require "json"
require "base64"
require "openssl"
require "active_support"
require "active_support/message_verifier"
require "active_support/key_generator"

def verifier(request)
  key = [request.fetch("key_hex")].pack("H*")
  ActiveSupport::MessageVerifier.new(key, digest: request.fetch("digest"), serializer: JSON)
end

# Rails' KeyGenerator as Rails.application.key_generator builds it. ActiveSupport 7.0 added
# hash_digest_class (SHA256 under load_defaults 7.0); 6.1 always used SHA1, so for SHA256 on
# 6.1 we call the PBKDF2 that 7.0's generate_key calls.
def turbo_key(request)
  digest = OpenSSL::Digest.const_get(request.fetch("digest"))
  skb = request.fetch("secret_key_base")
  salt = "turbo/signed_stream_verifier_key"
  if ActiveSupport::KeyGenerator.respond_to?(:hash_digest_class)
    ActiveSupport::KeyGenerator.new(skb, iterations: 1000, hash_digest_class: digest)
                               .generate_key(salt, 64)
  elsif digest == OpenSSL::Digest::SHA1
    ActiveSupport::KeyGenerator.new(skb, iterations: 1000).generate_key(salt, 64)
  else
    OpenSSL::PKCS5.pbkdf2_hmac(skb, salt, 1000, 64, digest.new)
  end
end

def sign_url_safe(request)
  begin
    v = ActiveSupport::MessageVerifier.new([request.fetch("key_hex")].pack("H*"),
                                           digest: request.fetch("digest"), serializer: JSON,
                                           url_safe: true)
    return v.generate(request.fetch("name"))
  rescue ArgumentError
    # ActiveSupport before 7.1 has no url_safe option: what it generates is
    # urlsafe_encode64(JSON.dump(name), padding: false) signed like any payload.
  end
  encoded = Base64.urlsafe_encode64(JSON.dump(request.fetch("name")), padding: false)
  key = [request.fetch("key_hex")].pack("H*")
  "#{encoded}--#{OpenSSL::HMAC.hexdigest(request.fetch("digest"), key, encoded)}"
end

# turbo-rails (lib/turbo-rails.rb): Turbo.signed_stream_verifier is a MessageVerifier over
# signed_stream_verifier_key, SHA256 and JSON whatever digest derived the key.
def turbo_sign(request)
  key = request["verifier_key"] || turbo_key(request)
  ActiveSupport::MessageVerifier.new(key, digest: "SHA256", serializer: JSON)
                               .generate(request.fetch("name"))
end

results = JSON.parse(ARGV.fetch(0)).map do |request|
  case request.fetch("op")
  when "sign" then verifier(request).generate(request.fetch("name"))
  when "sign_url_safe" then sign_url_safe(request)
  when "verify" then verifier(request).verified(request.fetch("signed"))
  when "turbo_key" then turbo_key(request).unpack1("H*")
  when "turbo_sign" then turbo_sign(request)
  else raise "unknown op #{request["op"]}"
  end
end
puts JSON.generate(results)
