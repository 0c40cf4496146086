# Reference Action Cable server (Rails Action Cable 6.1 from Debian, served by Debian's puma).
# It implements exactly Cablecast's built-in demo behaviour (connection identified by ?user=,
# rejected with ?reject=1; BenchmarkChannel; ChatChannel) so conformance tests and benchmarks can
# compare both servers frame by frame. No bundler, no gems beyond the Debian packages.
#
#   puma -b tcp://127.0.0.1:28080 reference/ruby/config.ru
#
# Readiness: puma prints "Listening on tcp://127.0.0.1:<port>" once the socket is bound; this
# file additionally logs "cablecast-reference: action cable ready" when the app is loaded.

require "logger"
require "action_cable"
require "action_dispatch"

$stderr.sync = true
$stdout.sync = true

module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :current_user

    def connect
      params = request.params
      reject_unauthorized_connection if params["reject"] == "1"
      user = params["user"]
      self.current_user = user.is_a?(String) && !user.empty? ? user : "anonymous"
    end
  end

  class Channel < ActionCable::Channel::Base
  end
end

class BenchmarkChannel < ApplicationCable::Channel
  def echo(data)
    transmit data
  end

  def broadcast(data)
    ActionCable.server.broadcast "all#{params[:id]}", data
    data["action"] = "broadcastResult"
    transmit data
  end

  private

  # Private on purpose: Action Cable treats every *public* method of the channel class as a
  # client-callable action, so a public `subscribed` could be re-run by {"action":"subscribed"}
  # (stream_from twice -> every broadcast delivered twice). Cablecast has no such action.
  def subscribed
    stream_from "all#{params[:id]}"
  end
end

class ChatChannel < ApplicationCable::Channel
  def speak(data)
    ActionCable.server.broadcast "chat_#{params[:room]}", { "user" => data["user"], "text" => data["text"] }
  end

  private

  def subscribed
    room = params[:room]
    return reject unless room.is_a?(String) && !room.blank?

    stream_from "chat_#{room}"
  end
end

logger = Logger.new($stderr)
logger.level = ENV.fetch("REFERENCE_LOG_LEVEL", "debug")
logger.formatter = proc { |severity, _time, _prog, msg| "#{severity} #{msg}\n" }

ActionCable.server.config.tap do |config|
  config.cable = { "adapter" => "async" }
  config.connection_class = -> { ApplicationCable::Connection }
  config.worker_pool_size = 4
  config.disable_request_forgery_protection = true
  config.allowed_request_origins = [/.*/]
  config.mount_path = "/cable"
  config.logger = ActiveSupport::TaggedLogging.new(logger)
end

map "/cable" do
  run ActionCable.server
end

logger.info "cablecast-reference: action cable ready"
