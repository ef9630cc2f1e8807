// Entry point: one WebSocket to the daemon that served this page, then the app.
import { render } from 'preact';
import { App } from './app.js';
import { html } from './html.js';
import { RpcClient } from './rpc.js';
import { Session } from './session.js';

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/current`;
const rpc = new RpcClient({ url });
const session = new Session(rpc);
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} rpc=${rpc} session=${session} />`, root);
}
