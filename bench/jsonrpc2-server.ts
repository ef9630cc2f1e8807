// What a user would write instead of Midship: ws plus the json-rpc-2.0 package, one method.
import { JSONRPCServer } from 'json-rpc-2.0';
import { serveOnUnixSocket, socketPathArg } from './listen.js';

const rpc = new JSONRPCServer();
rpc.addMethod('core.ping', () => 'pong');

await serveOnUnixSocket(socketPathArg(), (ws) => {
  ws.on('message', (data) => {
    void rpc.receiveJSON(String(data)).then((response) => {
      if (response !== null) ws.send(JSON.stringify(response));
    });
  });
});
