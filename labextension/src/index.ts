import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import cubeSvg from '../style/icons/cube.svg';

/** The side panel's id; also the key the layout restorer stores it under. */
const PANEL_ID = 'solidtype-chat-panel';
const COMMAND_OPEN = 'solidtype:open-chat';

export const cubeIcon = new LabIcon({ name: 'solidtype:cube', svgstr: cubeSvg });

/**
 * The chat side panel. The chat itself arrives with the chat issue; until then the
 * panel says so instead of showing an empty box.
 */
class ChatPanel extends Widget {
  constructor() {
    super();
    this.id = PANEL_ID;
    this.title.icon = cubeIcon;
    this.title.caption = 'SolidType AI CAD chat';
    this.addClass('jp-SolidTypeChatPanel');
    const heading = document.createElement('h2');
    heading.textContent = 'SolidType';
    const body = document.createElement('p');
    body.textContent = 'AI CAD chat for CadQuery models. Use %ai_chat in a notebook for now.';
    this.node.append(heading, body);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'solidtype-jupyter:plugin',
  description: 'AI CAD assistant side panel',
  autoStart: true,
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null) => {
    const panel = new ChatPanel();
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, PANEL_ID);
    app.commands.addCommand(COMMAND_OPEN, {
      label: 'Open SolidType AI chat',
      icon: cubeIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
  }
};

export default plugin;
