# Broadcasts through Rails' own postgresql Action Cable adapter (Debian ruby-actioncable 6.1,
# ruby-activerecord, ruby-pg; no bundler), exactly as a Rails app, console or job does:
#   ActionCable.server.broadcast(stream, message)
# so interop tests compare Cablecast against Rails' real SQL and channel naming, not a copy.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CHANNEL_PREFIX=myapp \
#     ruby reference/ruby/postgres_broadcast.rb STREAM JSON [STREAM JSON...]
#
# Each JSON argument is parsed and broadcast to the stream before it, in order (Action Cable
# encodes it again with ActiveSupport::JSON, so the payload is what a Rails app would send).
# Prints "broadcast N" and exits 0; a PostgreSQL error (e.g. a payload of 8000 bytes or more) is
# raised: exit 1.

require "json"
require "logger"
require "active_record"
require "action_cable"

if ARGV.empty? || ARGV.size.odd?
  abort "usage: postgres_broadcast.rb STREAM JSON [STREAM JSON...]"
end

ActiveRecord::Base.establish_connection(ENV.fetch("DATABASE_URL"))
ActionCable.server.config.tap do |config|
  # As a Rails app loads config/cable.yml (engine.rb: `.to_h.with_indifferent_access`):
  # ChannelPrefix reads cable[:channel_prefix], the adapter lookup cable["adapter"].
  config.cable = {
    "adapter" => "postgresql", "channel_prefix" => ENV["CHANNEL_PREFIX"]
  }.compact.with_indifferent_access
  config.logger = Logger.new($stderr, level: Logger::INFO)
end

ARGV.each_slice(2) { |stream, json| ActionCable.server.broadcast(stream, JSON.parse(json)) }
puts "broadcast #{ARGV.size / 2}"
