import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { mountChat, MountedChat } from '../../solidtype_jupyter/widgets/static/chat.js';
import cubeSvg from '../style/icons/cube.svg';
import { registerDocumentViewer, DOCUMENT_SUFFIX } from './document';
import { selectionOfCall } from './selection';
import { IChatPlace, ServerChatTransport } from './transport';
import { ModelView3D } from './view3d';

/** The side panel's id; also the key the layout restorer stores it under. */
const PANEL_ID = 'solidtype-chat-panel';
const COMMAND_OPEN = 'solidtype:open-chat';
const COMMAND_NEW = 'solidtype:new-chat';
const VIEW_HEIGHT_KEY = 'solidtype:view3d-height';
/** The least room the 3D view and the chat keep when the handle between them is dragged. */
const MIN_VIEW_PX = 120;
const MIN_CHAT_PX = 220;

export const cubeIcon = new LabIcon({ name: 'solidtype:cube', svgstr: cubeSvg });

/**
 * The chat side panel: the 3D view of the session's document above the same chat UI module
 * as the notebook's `%ai_chat` widget (talking to the server extension over HTTP/SSE with the
 * page's credentials), with a handle between them to share the height and a button that
 * folds the view to its toolbar.
 */
class ChatPanel extends Widget {
  constructor(app: JupyterFrontEnd, place: IChatPlace) {
    super();
    this.id = PANEL_ID;
    this.title.icon = cubeIcon;
    this.title.caption = 'SolidType AI CAD chat';
    this.addClass('jp-SolidTypeChatPanel');
    this.transport = new ServerChatTransport(place);
    this.transport.onEvent = event => {
      this._followTools(event);
      this._navigate(event);
    };
    this._app = app;
    // The 3D view shows the model: the chat's own picture is not needed (nor rendered).
    this.transport.pictures = false;
    this.view = new ModelView3D({
      collapsible: true,
      noDocument: 'No CAD document in this chat',
      emptyHint: 'Describe a part in the chat below'
    });
    this.transport.selection = () => this.view.selectionPayload();
    this.transport.onOpen = session => this.view.setSource({ session });
    this._viewBox.className = 'jp-SolidTypeChatPanel-view';
    this._viewBox.append(this.view.node);
    const stored = Number(window.localStorage.getItem(VIEW_HEIGHT_KEY));
    if (stored >= MIN_VIEW_PX) {
      this._viewBox.style.height = `${stored}px`;
    }
    this._handle.className = 'jp-SolidTypeChatPanel-handle';
    this._handle.setAttribute('role', 'separator');
    this._handle.setAttribute('aria-orientation', 'horizontal');
    this._handle.title = 'Drag to share the height between the 3D view and the chat';
    this._handle.addEventListener('pointerdown', this._startResize);
    this._chatHost.className = 'jp-SolidTypeChatPanel-chat';
    this.node.append(this._viewBox, this._handle, this._chatHost);
  }

  readonly view: ModelView3D;

  readonly transport: ServerChatTransport;

  protected onAfterShow(): void {
    if (this._mounting) {
      return;
    }
    this._mounting = true;
    // Mounted when first shown: a closed panel costs no requests, and a new session takes
    // the document in front at that moment.
    void this.transport.loadModel().then(() => {
      this._chat = mountChat(this._chatHost, this.transport, {
        title: 'SolidType AI',
        viewer: false,
        placeholder: 'Describe what you want to create or modify…'
      });
    });
  }

  dispose(): void {
    this._chat?.destroy();
    this.view.dispose();
    this.transport.dispose();
    super.dispose();
  }

  /**
   * The 3D view follows the agent: the faces/edges a call names in the agent's colour,
   * "updating…" while a call runs, the new model after each result.
   */
  private _followTools(event: Record<string, any>): void {
    switch (event.type) {
      case 'TOOL_CALL_START':
        this._toolArgs.set(event.toolCallId, '');
        break;
      case 'TOOL_CALL_ARGS':
        this._toolArgs.set(
          event.toolCallId,
          (this._toolArgs.get(event.toolCallId) ?? '') + (event.delta ?? '')
        );
        break;
      case 'TOOL_CALL_END':
        this.view.setAgentBusy(true);
        break;
      case 'TOOL_CALL_RESULT': {
        const name = this._toolNames.get(event.toolCallId) ?? '';
        const selection = selectionOfCall(
          name,
          this._toolArgs.get(event.toolCallId) ?? '',
          String(event.content ?? '')
        );
        this._toolArgs.delete(event.toolCallId);
        if (selection) {
          this.view.setAgentSelection(selection);
        }
        this.view.refresh(performance.now(), revisionOf(event.content));
        break;
      }
      case 'RUN_FINISHED':
      case 'RUN_ERROR':
        this.view.setAgentBusy(false);
        break;
      default:
        break;
    }
  }

  /** Drag the handle: the 3D view takes the height above it, the chat the rest. */
  private _startResize = (event: PointerEvent): void => {
    if (event.button !== 0 || this.view.collapsed) {
      return;
    }
    event.preventDefault();
    const startY = event.clientY;
    const startHeight = this._viewBox.getBoundingClientRect().height;
    const room = this.node.getBoundingClientRect().height - this._handle.offsetHeight;
    this._handle.setPointerCapture(event.pointerId);
    const move = (e: PointerEvent) => {
      const wanted = startHeight + e.clientY - startY;
      const height = Math.max(MIN_VIEW_PX, Math.min(room - MIN_CHAT_PX, wanted));
      this._viewBox.style.height = `${Math.round(height)}px`;
    };
    const end = () => {
      this._handle.removeEventListener('pointermove', move);
      this._handle.removeEventListener('pointerup', end);
      this._handle.removeEventListener('pointercancel', end);
      const height = Math.round(this._viewBox.getBoundingClientRect().height);
      window.localStorage.setItem(VIEW_HEIGHT_KEY, String(height));
    };
    this._handle.addEventListener('pointermove', move);
    this._handle.addEventListener('pointerup', end);
    this._handle.addEventListener('pointercancel', end);
  };

  /** `open_document` / `open_project` results open the file or folder in JupyterLab. */
  private _navigate(event: Record<string, any>): void {
    if (event.type === 'TOOL_CALL_START') {
      this._toolNames.set(event.toolCallId, event.toolCallName);
      return;
    }
    if (event.type !== 'TOOL_CALL_RESULT') {
      return;
    }
    const name = this._toolNames.get(event.toolCallId);
    if (name !== 'open_document' && name !== 'open_project') {
      return;
    }
    let content: Record<string, any>;
    try {
      content = JSON.parse(event.content);
    } catch {
      return;
    }
    const path = content.document?.path ?? content.project?.path;
    if (typeof path !== 'string') {
      return;
    }
    const command = name === 'open_document' ? 'docmanager:open' : 'filebrowser:go-to-path';
    void this._app.commands.execute(command, { path });
  }

  private _app: JupyterFrontEnd;
  private _viewBox = document.createElement('div');
  private _handle = document.createElement('div');
  private _chatHost = document.createElement('div');
  private _toolArgs = new Map<string, string>();
  private _chat: MountedChat | null = null;
  private _mounting = false;
  private _toolNames = new Map<string, string>();
}

/** The model's revision a tool result names (the editing tools' results do), if any. */
function revisionOf(content: unknown): string | undefined {
  try {
    const parsed = JSON.parse(String(content));
    return typeof parsed?.revision === 'string' ? parsed.revision : undefined;
  } catch {
    return undefined;
  }
}

/** `editor` on the `*.solid.json` document in front, `dashboard` otherwise. */
function chatPlace(app: JupyterFrontEnd, labShell: ILabShell | null): IChatPlace {
  const documentPath = (): string | null => {
    const current = labShell?.currentWidget ?? app.shell.currentWidget;
    const path = (current as any)?.context?.path;
    return typeof path === 'string' && path.endsWith(DOCUMENT_SUFFIX) ? path : null;
  };
  return {
    documentPath,
    context: () => (documentPath() ? 'editor' : 'dashboard')
  };
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'solidtype-jupyter:plugin',
  description: 'AI CAD assistant side panel and *.solid.json viewer',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    labShell: ILabShell | null
  ) => {
    const panel = new ChatPanel(app, chatPlace(app, labShell));
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, PANEL_ID);
    app.commands.addCommand(COMMAND_OPEN, {
      label: 'Open SolidType AI chat',
      icon: cubeIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
    app.commands.addCommand(COMMAND_NEW, {
      label: 'New SolidType AI chat (on the document in front, if any)',
      icon: cubeIcon,
      execute: () => {
        app.shell.activateById(PANEL_ID);
        panel.transport.send({ cmd: 'new' });
      }
    });
    app.commands.addKeyBinding({
      command: COMMAND_OPEN,
      keys: ['Accel Shift Y'],
      selector: 'body'
    });
    for (const command of [COMMAND_OPEN, COMMAND_NEW]) {
      palette?.addItem({ command, category: 'SolidType' });
    }
    registerDocumentViewer(app, cubeIcon);
  }
};

export default plugin;
