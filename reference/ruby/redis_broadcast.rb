# Broadcasts through Rails' own redis adapter, as a Rails app (console, job, model callback)
# does with `ActionCable.server.broadcast`: the interop tests use it to show that what Rails
# publishes reaches Cablecast's subscribers. Debian packages only (ruby-actioncable, ruby-redis).
#
#   ruby reference/ruby/redis_broadcast.rb URL PREFIX BROADCASTING JSON [JSON ...]
#
# PREFIX is cable.yml's channel_prefix ("" for none). Each JSON argument is decoded and handed to
# ActionCable.server.broadcast, which encodes it again with ActiveSupport::JSON, exactly as an
# app passing a Hash or String would. Prints "broadcast N" per message, then "done".

require "json"
require "logger"
require "action_cable"
require "active_support/core_ext/hash/indifferent_access"
require "active_support/core_ext/string/inflections" # adapter name -> class, as Rails loads it

url, prefix, broadcasting, *messages = ARGV
abort "usage: redis_broadcast.rb URL PREFIX BROADCASTING JSON..." if url.nil? || messages.empty?

$stdout.sync = true
ActionCable.server.config.tap do |config|
  # Rails loads cable.yml the same way: config_for(:cable) with indifferent access.
  cable = { adapter: "redis", url: url }
  cable[:channel_prefix] = prefix unless prefix.empty?
  config.cable = cable.with_indifferent_access
  config.logger = Logger.new($stderr, level: :warn)
end

messages.each_with_index do |json, i|
  ActionCable.server.broadcast(broadcasting, JSON.parse(json))
  puts "broadcast #{i + 1}"
end
ActionCable.server.pubsub.shutdown
puts "done"
