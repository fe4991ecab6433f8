/**
 * A JupyterLab viewer for `*.solid.json` CAD documents: the model as the server renders it
 * (CadQuery + VTK, `documents/render`), from four standard views, refreshed whenever the
 * file changes on disk (an agent saves after every tool call).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { NO_CACHE_BUSTER } from './transport';

export const DOCUMENT_SUFFIX = '.solid.json';
const FILE_TYPE = 'solidtype-document';
const FACTORY = 'SolidType CAD viewer';
const VIEWS = ['iso', 'top', 'front', 'right'];
const EMPTY_HINT =
  'Open the SolidType chat (Ctrl+Shift+Y) with this document in front and describe a part';
/** How often the viewer asks whether the file changed (a metadata request, no content). */
const POLL_MS = 2000;

class SolidDocumentView extends Widget {
  constructor(context: DocumentRegistry.Context, contents: Contents.IManager) {
    super();
    this._contents = contents;
    this.addClass('jp-SolidTypeDocumentView');
    this._context = context;
    const toolbar = document.createElement('div');
    toolbar.className = 'jp-SolidTypeDocumentView-views';
    for (const view of VIEWS) {
      const button = document.createElement('button');
      button.textContent = view;
      button.dataset.view = view;
      button.className = 'jp-Button jp-mod-styled';
      button.onclick = () => {
        this._view = view;
        void this._render();
      };
      toolbar.append(button);
    }
    this._image.className = 'jp-SolidTypeDocumentView-image';
    this._image.alt = 'The CAD model';
    this._message.className = 'jp-SolidTypeDocumentView-message';
    this.node.append(toolbar, this._image, this._message);
    void context.ready.then(() => {
      void this._render();
      this._timer = window.setInterval(() => void this._poll(), POLL_MS);
    });
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  private async _poll(): Promise<void> {
    if (!this.isVisible) {
      return;
    }
    try {
      const model = await this._contents.get(this._context.path, {
        content: false
      });
      if (model.last_modified !== this._modified) {
        await this._render();
      }
    } catch {
      // deleted or renamed: JupyterLab closes or retitles the widget itself
    }
  }

  private async _render(): Promise<void> {
    const settings = ServerConnection.makeSettings();
    const width = Math.max(320, Math.min(2048, Math.round(this.node.clientWidth || 800)));
    const height = Math.max(240, Math.min(2048, Math.round(width * 0.75)));
    const url =
      URLExt.join(settings.baseUrl, 'solidtype/api/documents/render') +
      URLExt.objectToQueryString({
        path: this._context.path,
        view: this._view,
        width: String(width),
        height: String(height)
      });
    const stat = await this._contents.get(this._context.path, {
      content: false
    });
    this._modified = stat.last_modified;
    const response = await ServerConnection.makeRequest(
      url,
      { cache: NO_CACHE_BUSTER },
      settings
    );
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).message || message;
      } catch {
        // keep the status
      }
      // 422: nothing to picture yet (no features, a sketch only, a file that does not
      // parse): said plainly, with what to do; anything else is a failure.
      const empty = response.status === 422;
      this._message.textContent = empty ? `${message}. ${EMPTY_HINT}` : message;
      this._image.hidden = true;
      this.node.dataset.state = empty ? 'empty' : 'error';
      return;
    }
    const blob = await response.blob();
    const old = this._image.src;
    this._image.src = URL.createObjectURL(blob);
    this._image.hidden = false;
    this._image.dataset.view = this._view;
    this._message.textContent = '';
    this.node.dataset.state = 'shown';
    if (old.startsWith('blob:')) {
      URL.revokeObjectURL(old);
    }
  }

  private _context: DocumentRegistry.Context;
  private _contents: Contents.IManager;
  private _image = document.createElement('img');
  private _message = document.createElement('div');
  private _view = 'iso';
  private _modified: string | undefined;
  private _timer = 0;
}

class SolidDocumentFactory extends ABCWidgetFactory<IDocumentWidget<SolidDocumentView>> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<IDocumentWidget<SolidDocumentView>>,
    contents: Contents.IManager
  ) {
    super(options);
    this._contents = contents;
  }

  protected createNewWidget(
    context: DocumentRegistry.Context
  ): IDocumentWidget<SolidDocumentView> {
    const content = new SolidDocumentView(context, this._contents);
    return new DocumentWidget({ context, content });
  }

  private _contents: Contents.IManager;
}

export function registerDocumentViewer(app: JupyterFrontEnd, icon: LabIcon): void {
  app.docRegistry.addFileType({
    name: FILE_TYPE,
    displayName: 'SolidType CAD document',
    extensions: [DOCUMENT_SUFFIX],
    mimeTypes: ['application/json'],
    fileFormat: 'text',
    contentType: 'file',
    icon
  });
  const factory = new SolidDocumentFactory(
    { name: FACTORY, fileTypes: [FILE_TYPE], defaultFor: [FILE_TYPE], modelName: 'text' },
    app.serviceManager.contents
  );
  app.docRegistry.addWidgetFactory(factory);
}
