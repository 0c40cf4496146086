#!/usr/bin/env ruby
# frozen_string_literal: true

# A small AnyCable application behind a real gRPC server, for tests of the gRPC RPC client
# (tests/unit/rpc_grpc) and of the whole server with `--rpc-url grpc://…`.
#
#   ruby tests/support/grpc_backend/server.rb [--port N] [--host H] [--exit-with-stdin]
#
# --port 0 (the default) picks a free port. --exit-with-stdin ends the process when its standard
# input closes: a test gives it a pipe, so the server never outlives a test that crashed. Standard output carries one JSON object per line:
#   {"event":"listening","port":50051}                                      once, first
#   {"event":"call","method":"Command","metadata":{"sid":"…","protov":"v1"},"request":{…}}
# one "call" line per RPC, written when the call arrives (before it is answered, so a test can
# tell that a slow call is in flight); "request" is the protobuf request as a hash with the
# proto's field names. SIGTERM or SIGINT ends the process at once, even with calls in flight.
#
# The application:
# Connect     accepts when the `cookie` header or the URL's query carries user=<name>:
#               SUCCESS, identifiers {"user":"<name>"}, transmissions [{"type":"welcome"}],
#               env.cstate {"user":"<name>"};
#             otherwise FAILURE with the transmission
#               {"type":"disconnect","reason":"unauthorized","reconnect":false}.
# Command     knows one channel, ChatChannel (identifier {"channel":"ChatChannel","room":…}):
#   subscribe    with a room: SUCCESS, streams ["chat_<room>"], istate {"room":"<room>"},
#                  transmissions [{"identifier":…,"type":"confirm_subscription"}];
#                without one: FAILURE, [{"identifier":…,"type":"reject_subscription"}].
#   unsubscribe  SUCCESS, stop_streams.
#   message      by data's "action":
#     speak        SUCCESS, transmissions [{"identifier":…,"message":{data without "action",
#                    "room": istate's room if any, "user": the connection's user if any}}]
#     slow         sleeps data["seconds"] (default 30) before SUCCESS: past any test deadline
#     hold         waits until the gate data["gate"] is released (at most data["seconds"],
#                    default 30), then SUCCESS: a call a test knows is in flight
#     release      releases the gate data["gate"] (for good: later holds pass at once), SUCCESS
#     leave        SUCCESS with every other reply field set: disconnect, stopped_streams
#                    ["chat_<room>"], env {cstate {"left":"<room>"}, istate {"room":""}},
#                    presence {type "leave", id "<user>", info "{}", ttl 60}
#     huge         SUCCESS with one transmission of data["bytes"] (default 5 MiB) bytes: over
#                    the 4 MiB gRPC clients accept by default
#     bad_status   a reply whose status is 7 (not a Status value)
#     raise        raises, so the gRPC server answers UNKNOWN
#     anything else: ERROR, error_msg "Unknown action: <action>"
#   another channel: ERROR, error_msg "Channel not found: <channel>".
# Disconnect  SUCCESS (the "call" line is the record).
require "json"
require "optparse"
require "uri"
require_relative "anycable_rpc"

# Named gates for `hold` / `release`, shared by every call the server handles.
class Gates
  def initialize
    @mutex = Mutex.new
    @released = ConditionVariable.new
    @open = {}
  end

  def hold(name, seconds)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    @mutex.synchronize do
      until @open[name]
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        break if left <= 0

        @released.wait(@mutex, left)
      end
    end
  end

  def release(name)
    @mutex.synchronize do
      @open[name] = true
      @released.broadcast
    end
  end
end

class ScriptedApp < AnyCableRPC::Service
  OUTPUT = Mutex.new
  GATES = Gates.new

  def self.emit(object)
    OUTPUT.synchronize { $stdout.puts(JSON.generate(object)) }
  end

  def connect(request, call)
    record("Connect", request, call)
    user = user_from(request.env)
    if user
      AnyCable::ConnectionResponse.new(
        status: :SUCCESS, identifiers: JSON.generate(user: user),
        transmissions: [JSON.generate(type: "welcome")], env: { cstate: { "user" => user } }
      )
    else
      AnyCable::ConnectionResponse.new(
        status: :FAILURE, error_msg: "unauthorized",
        transmissions: [JSON.generate(type: "disconnect", reason: "unauthorized", reconnect: false)]
      )
    end
  end

  def command(request, call)
    record("Command", request, call)
    identifier = JSON.parse(request.identifier)
    channel = identifier["channel"]
    return error("Channel not found: #{channel}") unless channel == "ChatChannel"

    case request.command
    when "subscribe" then subscribe(request, identifier["room"].to_s)
    when "unsubscribe" then AnyCable::CommandResponse.new(status: :SUCCESS, stop_streams: true)
    when "message" then perform(request, JSON.parse(request.data))
    else error("Unknown command: #{request.command}")
    end
  end

  def disconnect(request, call)
    record("Disconnect", request, call)
    AnyCable::DisconnectResponse.new(status: :SUCCESS)
  end

  private

  def record(method, request, call)
    metadata = call.metadata.slice("sid", "protov")
    self.class.emit(event: "call", method: method, metadata: metadata, request: request.to_h)
  end

  def user_from(env)
    cookies = env.headers["cookie"].to_s.split(/;\s*/).to_h { |pair| pair.split("=", 2) }
    query = URI.decode_www_form(URI.parse(env.url).query.to_s).to_h
    user = cookies["user"] || query["user"]
    user unless user.to_s.empty?
  end

  def subscribe(request, room)
    if room.empty?
      return AnyCable::CommandResponse.new(
        status: :FAILURE, transmissions: [frame(request, type: "reject_subscription")]
      )
    end
    AnyCable::CommandResponse.new(
      status: :SUCCESS, streams: ["chat_#{room}"], env: { istate: { "room" => room } },
      transmissions: [frame(request, type: "confirm_subscription")]
    )
  end

  def perform(request, data)
    action = data.delete("action")
    room = request.env.istate["room"]
    user = connection_user(request)
    case action
    when "speak"
      message = data.merge({ "room" => room, "user" => user }.compact)
      AnyCable::CommandResponse.new(status: :SUCCESS, transmissions: [frame(request, message: message)])
    when "slow"
      sleep(Float(data.fetch("seconds", 30)))
      AnyCable::CommandResponse.new(status: :SUCCESS)
    when "hold"
      GATES.hold(data.fetch("gate", ""), Float(data.fetch("seconds", 30)))
      AnyCable::CommandResponse.new(status: :SUCCESS)
    when "release"
      GATES.release(data.fetch("gate", ""))
      AnyCable::CommandResponse.new(status: :SUCCESS)
    when "leave"
      AnyCable::CommandResponse.new(
        status: :SUCCESS, disconnect: true, stopped_streams: ["chat_#{room}"],
        env: { cstate: { "left" => room.to_s }, istate: { "room" => "" } },
        presence: { type: "leave", id: user.to_s, info: "{}", ttl: 60 }
      )
    when "huge"
      AnyCable::CommandResponse.new(status: :SUCCESS,
                                    transmissions: ["x" * Integer(data.fetch("bytes", 5 << 20))])
    when "bad_status"
      AnyCable::CommandResponse.new.tap { |response| response.status = 7 }
    when "raise"
      raise "the application raised"
    else
      error("Unknown action: #{action}")
    end
  end

  def connection_user(request)
    return nil if request.connection_identifiers.empty?

    JSON.parse(request.connection_identifiers)["user"]
  end

  # A transmission: a complete Action Cable frame for this command's subscription.
  def frame(request, **fields)
    JSON.generate({ identifier: request.identifier }.merge(fields))
  end

  def error(message)
    AnyCable::CommandResponse.new(status: :ERROR, error_msg: message)
  end
end

if $PROGRAM_NAME == __FILE__
  options = { host: "127.0.0.1", port: 0 }
  OptionParser.new do |parser|
    parser.on("--host HOST") { |value| options[:host] = value }
    parser.on("--port PORT", Integer) { |value| options[:port] = value }
    parser.on("--exit-with-stdin") { options[:exit_with_stdin] = true }
  end.parse!

  $stdout.sync = true
  # A test fixture: stop at once, without waiting for sleeping `slow` calls to return.
  %w[TERM INT].each { |signal| trap(signal) { exit!(0) } }
  if options[:exit_with_stdin]
    Thread.new do
      $stdin.read
      exit!(0)
    end
  end

  server = GRPC::RpcServer.new(pool_size: 32)
  port = server.add_http2_port("#{options[:host]}:#{options[:port]}", :this_port_is_insecure)
  server.handle(ScriptedApp)
  runner = Thread.new { server.run }
  server.wait_till_running
  ScriptedApp.emit(event: "listening", port: port) # only once calls are served
  runner.join
end
