# The reference Action Cable server (config.ru: same connection and channels) on Rails' redis
# adapter instead of async, so interop tests can run Ruby Action Cable and Cablecast side by side
# on one Redis:
#
#   CABLECAST_REDIS_URL=redis://127.0.0.1:6379/0 CABLECAST_CHANNEL_PREFIX=app \
#     puma -b tcp://127.0.0.1:28081 reference/ruby/config_redis.ru
#
# config.ru is evaluated in this rackup context (so both servers stay identical), then the cable
# configuration is replaced before Action Cable creates its pub/sub adapter (it does so lazily, on
# the first subscription or broadcast). It is wrapped in a top-level proc, as Rack itself loads a
# config.ru: its classes (ChatChannel, ...) then become top-level constants, which Action Cable
# looks the channel names up in; a plain instance_eval of the text would hide them in this
# builder's singleton class.

require "active_support/core_ext/hash/indifferent_access"

reference_app = File.expand_path("config.ru", __dir__)
instance_eval(&eval("proc {\n#{File.read(reference_app)}\n}", TOPLEVEL_BINDING, reference_app, 0))

redis_url = ENV.fetch("CABLECAST_REDIS_URL")
prefix = ENV.fetch("CABLECAST_CHANNEL_PREFIX", "")
cable = { adapter: "redis", url: redis_url }
cable[:channel_prefix] = prefix unless prefix.empty?
ActionCable.server.config.cable = cable.with_indifferent_access
$stderr.puts "cablecast-reference: redis adapter on #{redis_url.sub(/:[^:@\/]*@/, ':***@')} prefix #{prefix.inspect}"
