// The page's side of the webview bridge: VS Code's `acquireVsCodeApi()` (which may be called only
// once per page), typed with the panel protocol, plus the ready handshake.
import type { HostMessage, PageMessage, PanelState } from './panel_protocol';

interface VsCodeApi {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface PanelBridge {
  post(message: PageMessage): void;
  state<S extends PanelState>(kind: S['kind']): S | undefined;
  saveState(state: PanelState): void;
}

/**
 * Connects the page: installs `onMessage` for host messages, then posts `ready`, so that the host's
 * first post always finds a listener.
 */
export function connect(onMessage: (message: HostMessage) => void): PanelBridge {
  const api = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as HostMessage | undefined;
    if (data && typeof data === 'object' && typeof data.type === 'string') onMessage(data);
  });
  const bridge: PanelBridge = {
    post: (message) => api.postMessage(message),
    state: <S extends PanelState>(kind: S['kind']) => {
      const s = api.getState() as PanelState | undefined;
      return s && s.kind === kind ? (s as S) : undefined;
    },
    saveState: (state) => api.setState(state),
  };
  bridge.post({ type: 'ready' });
  return bridge;
}
