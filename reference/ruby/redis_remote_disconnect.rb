# Closes connections from Rails, as an app does with
# `ActionCable.server.remote_connections.where(user: ...).disconnect`, through Rails' own redis
# adapter: the interop tests use it to show that Cablecast's connections honour it. Debian
# packages only (ruby-actioncable, ruby-redis).
#
#   ruby reference/ruby/redis_remote_disconnect.rb URL PREFIX USER
#
# The connection class is identified by `user`, as the cablecast binary identifies connections
# (its `user` query parameter). Rails publishes {"type":"disconnect"} (6.1; 7.1+ adds
# "reconnect") on "<prefix>:action_cable/<user>". Prints "done".

require "logger"
require "action_cable"
require "active_support/core_ext/hash/indifferent_access"
require "active_support/core_ext/string/inflections" # adapter name -> class, as Rails loads it

url, prefix, user = ARGV
abort "usage: redis_remote_disconnect.rb URL PREFIX USER" if user.nil?

module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :user
  end
end

$stdout.sync = true
ActionCable.server.config.tap do |config|
  cable = { adapter: "redis", url: url }
  cable[:channel_prefix] = prefix unless prefix.empty?
  config.cable = cable.with_indifferent_access
  config.connection_class = -> { ApplicationCable::Connection }
  config.logger = Logger.new($stderr, level: :warn)
end

ActionCable.server.remote_connections.where(user: user).disconnect
ActionCable.server.pubsub.shutdown
puts "done"
