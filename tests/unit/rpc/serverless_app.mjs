// The application behind tests/unit/rpc/http_backend_serverless_test.cpp: an AnyCable backend
// built with @anycable/serverless-js (tests/support/serverless_backend.mjs), run by the C++ test
// as `node serverless_app.mjs <secret>`.
//
// Protocol with the test, one JSON object per stdout line:
//   {"url": "http://127.0.0.1:<port>/_anycable"}     once, when it listens
//   {"call": {method, path, headers, body, status, reply}}   for every RPC it answered
// It exits when its stdin closes (the test ended, or crashed).
import {Channel, startServerlessBackend} from '../../support/serverless_backend.mjs';

class ChatChannel extends Channel {
  async subscribed(handle, params) {
    if (!params?.room) return handle.reject();
    handle.streamFrom(`chat_${params.room}`);
  }
  async speak(handle, params, data) {
    handle.transmit({echo: data.text, room: params.room});
  }
}

const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

const backend = await startServerlessBackend({
  secret: process.argv[2],
  channels: {ChatChannel: new ChatChannel()},
  // ?token=good is "ann"; anything else is rejected.
  connect: (handle) => {
    const token = new URL(handle.env.url).searchParams.get('token');
    if (token === 'good') handle.identifiedBy({user: 'ann'});
    else handle.reject();
  },
  onCall: (call) => print({call}),
});
print({url: backend.url});

process.stdin.resume();
process.stdin.on('end', async () => {
  await backend.close();
  process.exit(0);
});
