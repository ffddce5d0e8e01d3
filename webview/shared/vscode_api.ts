// The page's side of the webview bridge: VS Code's `acquireVsCodeApi()` (which may be called only
// once per page), typed with the panel protocol, plus the ready handshake.
import { isHostMessage, isPanelStateOf, type HostMessage, type PageMessage, type PanelState } from './panel_protocol';

interface VsCodeApi {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface PanelBridge {
  post(message: PageMessage): void;
  state<K extends PanelState['kind']>(kind: K): Extract<PanelState, { kind: K }> | undefined;
  saveState(state: PanelState): void;
}

/**
 * Connects the page: installs `onMessage` for host messages, then posts `ready`, so that the host's
 * first post always finds a listener.
 */
export function connect(onMessage: (message: HostMessage) => void): PanelBridge {
  const api = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (isHostMessage(data)) onMessage(data);
  });
  const bridge: PanelBridge = {
    post: (message) => api.postMessage(message),
    state: <K extends PanelState['kind']>(kind: K) => {
      const saved = api.getState();
      return isPanelStateOf(saved, kind) ? saved : undefined;
    },
    saveState: (state) => api.setState(state),
  };
  bridge.post({ type: 'ready' });
  return bridge;
}
