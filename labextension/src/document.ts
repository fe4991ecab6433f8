/**
 * A JupyterLab viewer for `*.solid.json` CAD documents: the model in the interactive 3D view
 * (orbit, standard views, section, picking), following the file as it changes on disk (an
 * agent saves after every tool call; the view asks the server for the new revision).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { ModelView3D } from './view3d';

export const DOCUMENT_SUFFIX = '.solid.json';
const FILE_TYPE = 'solidtype-document';
const FACTORY = 'SolidType CAD viewer';
const EMPTY_HINT =
  'Open the SolidType chat (Ctrl+Shift+Y) with this document in front and describe a part';

class SolidDocumentView extends Widget {
  constructor(context: DocumentRegistry.Context) {
    super();
    this.addClass('jp-SolidTypeDocumentView');
    this.view = new ModelView3D({ emptyHint: EMPTY_HINT });
    this.node.append(this.view.node);
    // The view's state (loading, shown, empty, error) on the document widget too.
    this._state = new MutationObserver(() => {
      this.node.dataset.state = this.view.node.dataset.state;
    });
    this._state.observe(this.view.node, { attributes: true, attributeFilter: ['data-state'] });
    void context.ready.then(() => this.view.setSource({ path: context.path }));
    context.pathChanged.connect((_, path) => this.view.setSource({ path }));
  }

  readonly view: ModelView3D;

  dispose(): void {
    this._state.disconnect();
    this.view.dispose();
    super.dispose();
  }

  private _state: MutationObserver;
}

class SolidDocumentFactory extends ABCWidgetFactory<IDocumentWidget<SolidDocumentView>> {
  protected createNewWidget(
    context: DocumentRegistry.Context
  ): IDocumentWidget<SolidDocumentView> {
    const content = new SolidDocumentView(context);
    return new DocumentWidget({ context, content });
  }
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
  const factory = new SolidDocumentFactory({
    name: FACTORY,
    fileTypes: [FILE_TYPE],
    defaultFor: [FILE_TYPE],
    modelName: 'text'
  });
  app.docRegistry.addWidgetFactory(factory);
}
