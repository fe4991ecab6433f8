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
import { IChatPlace, ServerChatTransport } from './transport';

/** The side panel's id; also the key the layout restorer stores it under. */
const PANEL_ID = 'solidtype-chat-panel';
const COMMAND_OPEN = 'solidtype:open-chat';
const COMMAND_NEW = 'solidtype:new-chat';

export const cubeIcon = new LabIcon({ name: 'solidtype:cube', svgstr: cubeSvg });

/**
 * The chat side panel: the same chat UI module as the notebook's `%ai_chat` widget, talking
 * to the server extension over HTTP/SSE with the page's credentials.
 */
class ChatPanel extends Widget {
  constructor(app: JupyterFrontEnd, place: IChatPlace) {
    super();
    this.id = PANEL_ID;
    this.title.icon = cubeIcon;
    this.title.caption = 'SolidType AI CAD chat';
    this.addClass('jp-SolidTypeChatPanel');
    this.transport = new ServerChatTransport(place);
    this.transport.onEvent = event => this._navigate(event);
    this._app = app;
  }

  readonly transport: ServerChatTransport;

  protected onAfterShow(): void {
    if (this._mounting) {
      return;
    }
    this._mounting = true;
    // Mounted when first shown: a closed panel costs no requests, and a new session takes
    // the document in front at that moment.
    void this.transport.loadModel().then(() => {
      this._chat = mountChat(this.node, this.transport, {
        title: 'SolidType AI',
        viewer: true,
        placeholder: 'Describe what you want to create or modify…'
      });
    });
  }

  dispose(): void {
    this._chat?.destroy();
    this.transport.dispose();
    super.dispose();
  }

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
  private _chat: MountedChat | null = null;
  private _mounting = false;
  private _toolNames = new Map<string, string>();
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
