# frozen_string_literal: true

# AnyCable's RPC service (`anycable.RPC`) for Ruby test programs, built from the repository's own
# contract file, src/rpc/grpc/anycable_rpc.proto, so the test server and the C++ client can never
# disagree about the wire format.
#
# Debian ships no grpc_tools_ruby_protoc, so the message classes come from `protoc --ruby_out`
# (generated into a temporary directory when this file is required) and the service is declared
# by hand with GRPC::GenericService, exactly what the generated *_services_pb.rb would contain.
#
#   require_relative "anycable_rpc"
#   class MyApp < AnyCableRPC::Service
#     def connect(request, call) = AnyCable::ConnectionResponse.new(status: :SUCCESS)
#     ...
#   end
require "grpc"
require "tmpdir"

module AnyCableRPC
  PROTO = File.expand_path("../../../src/rpc/grpc/anycable_rpc.proto", __dir__)

  def self.load_messages(proto = PROTO)
    Dir.mktmpdir("anycable_rpc") do |dir|
      ok = system("protoc", "--ruby_out=#{dir}", "-I", File.dirname(proto), File.basename(proto))
      raise "protoc failed on #{proto}" unless ok

      # Defines AnyCable::ConnectionRequest, ... (the file's `ruby_package`) in the generated pool.
      load File.join(dir, File.basename(proto, ".proto") + "_pb.rb")
    end
  end
  load_messages

  # The service as anycable-rb's generated code declares it: subclasses implement `connect`,
  # `command` and `disconnect(request, call)`; `call.metadata` holds the client's metadata.
  class Service
    include GRPC::GenericService

    self.marshal_class_method = :encode
    self.unmarshal_class_method = :decode
    self.service_name = "anycable.RPC"

    rpc :Connect, AnyCable::ConnectionRequest, AnyCable::ConnectionResponse
    rpc :Command, AnyCable::CommandMessage, AnyCable::CommandResponse
    rpc :Disconnect, AnyCable::DisconnectRequest, AnyCable::DisconnectResponse
  end
end
