// The ceiling: every text frame is sent straight back, so the client gets its own request as the
// answer. No parsing, no dispatch: what is left is ws framing and the socket.
import { serveOnUnixSocket, socketPathArg } from './listen.js';

await serveOnUnixSocket(socketPathArg(), (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
