// Types of the shared chat UI module (solidtype_jupyter/widgets/static/chat.js), which the
// notebook widget loads as is and this extension bundles: one chat UI for both hosts.
declare module '*/widgets/static/chat.js' {
  export interface ChatTransport {
    send(command: Record<string, unknown>): void;
    subscribe(
      listener: (message: Record<string, unknown>, buffers?: ArrayBuffer[]) => void
    ): () => void;
  }
  export interface MountedChat {
    destroy(): void;
  }
  export function mountChat(
    element: HTMLElement,
    transport: ChatTransport,
    options?: { title?: string; viewer?: boolean; placeholder?: string }
  ): MountedChat;
}
