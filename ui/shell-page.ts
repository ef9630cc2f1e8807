// The Shell page: a terminal (xterm.js, loaded on first use) joined to the daemon's web shell
// (/websocket/shell, MODULES.md §6): a single-use token from auth.generate_token opens it, raw
// pty bytes flow both ways as binary frames, and every size change of the terminal is sent with
// core.resize_shell. Leaving the page closes the socket, which ends the shell.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import { html } from './html.js';
import type { RpcClient } from './rpc.js';
import { allowStyleElements } from './style-nonce.js';

type Status = { state: 'connecting' } | { state: 'connected'; id: string } | { state: 'ended'; reason: string };

const loadTerminal = () => Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);

export function ShellPage({ rpc }: { rpc: RpcClient }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ state: 'connecting' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let gone = false;
    let term: Terminal | null = null;
    let fit: FitAddon | null = null;
    let ws: WebSocket | null = null;
    let observer: ResizeObserver | null = null;
    setStatus({ state: 'connecting' });
    (async () => {
      allowStyleElements();
      const [{ Terminal }, { FitAddon }] = await loadTerminal();
      const token = await rpc.call<string>('auth.generate_token', [300, {}, true, true]);
      if (gone || !box.current) return;
      term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, convertEol: false });
      fit = new FitAddon();
      term.loadAddon(fit);
      term.open(box.current);
      fit.fit();
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/websocket/shell`);
      ws = socket;
      socket.binaryType = 'arraybuffer';
      let id: string | null = null;
      const encoder = new TextEncoder();
      const resize = () => {
        if (id !== null && term) void rpc.call('core.resize_shell', [id, term.cols, term.rows]).catch(() => undefined);
      };
      socket.onopen = () => socket.send(JSON.stringify({ token, options: {} }));
      socket.onmessage = (e: MessageEvent) => {
        if (e.data instanceof ArrayBuffer) {
          term?.write(new Uint8Array(e.data));
          return;
        }
        const m = JSON.parse(String(e.data)) as { msg: string; id?: string; error?: { reason: string } };
        if (m.msg === 'connected' && m.id) {
          id = m.id;
          setStatus({ state: 'connected', id });
          resize();
          term?.focus();
        } else if (m.msg === 'failed') {
          setStatus({ state: 'ended', reason: m.error?.reason ?? 'The shell was refused' });
          socket.close();
        }
      };
      socket.onclose = () => {
        if (!gone) setStatus((s) => (s.state === 'ended' ? s : { state: 'ended', reason: 'The shell ended.' }));
      };
      term.onData((d) => socket.readyState === WebSocket.OPEN && socket.send(encoder.encode(d)));
      term.onBinary((d) => socket.readyState === WebSocket.OPEN && socket.send(Uint8Array.from(d, (ch) => ch.charCodeAt(0))));
      term.onResize(resize);
      observer = new ResizeObserver(() => fit?.fit());
      observer.observe(box.current);
    })().catch((err: unknown) => !gone && setStatus({ state: 'ended', reason: (err as Error).message }));
    return () => {
      gone = true;
      observer?.disconnect();
      ws?.close();
      term?.dispose();
    };
  }, [rpc, attempt]);

  return html`
    <div class="shell-page">
      <div class="shell-head">
        <h1>Shell</h1>
        <span class="muted" role="status" data-testid="shell-status" data-state=${status.state}>
          ${status.state === 'connecting' ? 'Connecting\u2026' : status.state === 'connected' ? 'Connected' : status.reason}
        </span>
        ${status.state === 'ended' ? html`<button type="button" data-testid="shell-reconnect" onClick=${() => setAttempt((n) => n + 1)}>New shell</button>` : null}
      </div>
      <div class="terminal" ref=${box} data-testid="shell-terminal"></div>
    </div>`;
}
