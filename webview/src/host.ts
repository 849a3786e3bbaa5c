import type { HostToWebview, RequestKind, RequestMap } from '../../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type EventMessage = Exclude<HostToWebview, { type: 'response' }>;

/** Typed requests to the extension host; a failed request rejects with the host's message. */
export class HostClient {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly onEvent: (event: EventMessage) => void) {
    window.addEventListener('message', (event: MessageEvent<HostToWebview>) => this.receive(event.data));
  }

  ready(): void {
    this.api.postMessage({ type: 'ready' });
  }

  request<K extends RequestKind>(kind: K, params: RequestMap[K]['params']): Promise<RequestMap[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.api.postMessage({ type: 'request', id, kind, params });
    });
  }

  private receive(message: HostToWebview): void {
    if (message.type !== 'response') {
      this.onEvent(message);
      return;
    }
    const pending = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (!pending) return;
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(message.error));
  }
}
