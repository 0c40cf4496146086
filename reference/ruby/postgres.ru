# The reference Action Cable server (config.ru: same channels and connection) with Rails' real
# postgresql pub/sub adapter instead of async, so several processes (Rails and Cablecast nodes)
# share broadcasts through one database. ActiveRecord provides the connection pool the adapter
# requires.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CHANNEL_PREFIX=myapp \
#     puma -b tcp://127.0.0.1:28081 reference/ruby/postgres.ru
#
# Ready when puma prints "Listening on tcp://127.0.0.1:<port>".

require "active_record"

ActiveRecord::Base.establish_connection(ENV.fetch("DATABASE_URL"))

reference_app = File.join(__dir__, "config.ru")
# Evaluated with this block's binding, as rackup evaluates config.ru: its channel classes become
# top-level constants (instance_eval would nest them where Action Cable cannot find them).
eval(File.read(reference_app), binding, reference_app) # rubocop:disable Security/Eval

# The adapter is built on first use (ActionCable.server.pubsub), so replacing the cable config
# after config.ru set "async" takes effect. Indifferent access as a Rails app loads cable.yml
# (ChannelPrefix reads cable[:channel_prefix]).
ActionCable.server.config.cable = {
  "adapter" => "postgresql", "channel_prefix" => ENV["CHANNEL_PREFIX"]
}.compact.with_indifferent_access
