/**
 * The interactive 3D view of a CAD document, shared by the side panel (the document of the
 * chat's session) and the `*.solid.json` viewer (the file's own document).
 *
 * It reads the server's tessellation route (the shape tree as jupyter-cadquery's viewer
 * receives it, with a descriptor per face and edge), asks again with `If-None-Match` once a
 * second while it is on screen (edits by other agents or users) and at once when told (after
 * each tool result of its own chat), and swaps the meshes in place: the camera stays where
 * the user left it. Faces and edges the agent works on show in the agent's colour; those the
 * user clicks, in the user's colour, and are what the chat sends the agent as the selection.
 * Both belong to the document: every view of the same document shows them, so a face
 * clicked in the document's viewer goes with the side panel's next request. Without WebGL
 * it says so and shows the server's pictures instead.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { AGENT_COLOR, USER_COLOR } from './colors';
import type { CadScene, SectionAxis, StandardView } from './scene';
import {
  descriptorOf,
  elementKey,
  ElementKind,
  IAgentSelection,
  IDescriptor,
  IElement,
  MAX_SELECTION,
  References,
  resolve,
  selectionPayload
} from './selection';

type Json = Record<string, any>;

/** A face or edge the user picked: the route's descriptor of it. */
interface IPicked {
  descriptor: IDescriptor;
  kind: ElementKind;
}

/** A pick as one view shows it: the element of its current model. */
interface IPick extends IPicked {
  element: IElement;
}

/**
 * The user's picks per document (contents path), shared by every view of that document: a
 * face clicked in the `*.solid.json` viewer is picked in the side panel's view of the same
 * document too, and goes to the agent with the panel's next chat request.
 */
const picksByDocument = new Map<string, IPicked[]>();
/** The agent's latest selection per document, likewise shown by every view of it. */
const agentByDocument = new Map<string, IAgentSelection>();
const openViews = new Set<ModelView3D>();

function publishPicks(path: string, picks: IPicked[]): void {
  if (picks.length) {
    picksByDocument.set(path, picks.slice(0, MAX_SELECTION));
  } else {
    picksByDocument.delete(path);
  }
  for (const view of openViews) {
    view.adoptPicks(path);
  }
}

const TESSELLATION_ROUTE = 'solidtype/api/documents/tessellation';
const RENDER_ROUTE = 'solidtype/api/documents/render';
const VIEWS: StandardView[] = ['iso', 'top', 'front', 'right'];
/** How often a view on screen asks whether the model changed (a 304 when it did not). */
const POLL_MS = 1000;
/** A fetch that takes longer than this shows "updating…" (a 304 poll never flickers it). */
const BUSY_DELAY_MS = 150;
/** A pointer that moves less than this between press and release clicked (did not orbit). */
const CLICK_SLOP_PX = 4;
const COLLAPSED_KEY = 'solidtype:view3d-collapsed';

export interface IModelViewOptions {
  /** A toolbar button that folds the view to its toolbar (the side panel's). */
  collapsible?: boolean;
  /** What to say when the source has no document (the route's 404). */
  noDocument?: string;
  /** What to add when the document has nothing to show yet (the route's 422). */
  emptyHint?: string;
  settings?: ServerConnection.ISettings;
}

export class ModelView3D {
  constructor(options: IModelViewOptions = {}) {
    this._options = options;
    this._settings = options.settings ?? ServerConnection.makeSettings();
    this.node.className = 'jp-SolidTypeView3D';
    this.node.dataset.state = 'idle';
    this._stage.className = 'jp-SolidTypeView3D-stage';
    this._message.className = 'jp-SolidTypeView3D-message';
    this._picture.className = 'jp-SolidTypeView3D-picture';
    this._picture.alt = 'The CAD model (a picture rendered by the server)';
    this._picture.hidden = true;
    this.node.append(this._toolbar(), this._stage);
    this._stage.append(this._picture, this._message, this._legend());
    this.node.dataset.renderer = 'loading';
    this._resizer = new ResizeObserver(() => {
      this._scene?.resize();
      if (this.node.dataset.renderer === 'picture' && this._visible()) {
        this._schedulePicture();
      }
    });
    this._resizer.observe(this._stage);
    this._themeWatch = new MutationObserver(() => this._applyTheme());
    this._themeWatch.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-light']
    });
    this._applyTheme();
    if (options.collapsible && window.localStorage.getItem(COLLAPSED_KEY) === '1') {
      this._setCollapsed(true);
    }
    openViews.add(this);
    this._timer = window.setInterval(() => {
      if (this._visible() && !this._pollPaused) {
        void this._fetch();
      }
    }, POLL_MS);
  }

  readonly node = document.createElement('div');

  /** Called when the user's picks change. */
  onSelectionChange: (() => void) | null = null;

  /**
   * Show the document named by `query` (`{path}` or `{session}`); null: none. A new source
   * starts from an empty view, with no selection, and frames its first model.
   */
  setSource(query: Record<string, string> | null): void {
    const key = query ? JSON.stringify(query) : '';
    if (key === this._sourceKey) {
      return;
    }
    this._sourceKey = key;
    this._query = query;
    this._pollPaused = false;
    this._etag = null;
    this._references = {};
    this._documentPath = null;
    this._user.clear();
    this._agentSelection = null;
    this._scene?.setModel({ parts: [] });
    this.node.dataset.revision = '';
    this._selectionChanged();
    if (!query) {
      this._show('empty', this._options.noDocument ?? 'No CAD document');
      this.node.dataset.reason = 'no-document';
      return;
    }
    this._show('loading', 'Loading the model…');
    void this._ensureScene();
    void this._fetch();
  }

  /**
   * Fetch the model now: after a tool result of the chat, which arrived at `at` and names
   * the model's new `revision` (a changing call's result does), for the time-to-view figure:
   * from the result's arrival to the first frame drawn with that revision.
   */
  refresh(at?: number, revision?: string): void {
    this._agentBusy = false;
    this._pollPaused = false;
    if (at !== undefined && revision) {
      if (this.node.dataset.revision === revision) {
        this.node.dataset.updateMs = '0'; // the poll had brought it before the result
      } else {
        this._awaited = { at, revision };
      }
    }
    void this._fetch(true);
  }

  /** The agent is changing the model (a tool call runs): "updating…" until the next model. */
  setAgentBusy(busy: boolean): void {
    this._agentBusy = busy;
    this._updateBusy();
  }

  /**
   * The faces or edges the agent works on (from its latest tool call that names some), in
   * every view of this view's document.
   */
  setAgentSelection(selection: IAgentSelection | null): void {
    const path = this._documentPath;
    if (!path) {
      this._agentSelection = selection;
      this._applyHighlights();
      return;
    }
    if (selection) {
      agentByDocument.set(path, selection);
    } else {
      agentByDocument.delete(path);
    }
    for (const view of openViews) {
      if (view._documentPath === path) {
        view._agentSelection = selection;
        view._applyHighlights();
      }
    }
  }

  /**
   * What the user picked in any view of this view's document, as the descriptors sent with
   * the next chat request (≤ 100).
   */
  selectionPayload(): IDescriptor[] {
    const picks = this._documentPath ? picksByDocument.get(this._documentPath) ?? [] : [];
    return picks.map(({ descriptor, kind }) => selectionPayload(descriptor, kind));
  }

  /** Show the document's shared picks (after a pick in any view of document `path`). */
  adoptPicks(path: string): void {
    if (path !== this._documentPath) {
      return;
    }
    this._user.clear();
    for (const pick of picksByDocument.get(path) ?? []) {
      const [element] = resolve([pick.descriptor], pick.kind, this._references);
      if (element) {
        this._user.set(elementKey(element), { ...pick, element });
      }
    }
    this._selectionChanged();
  }

  dispose(): void {
    this._disposed = true;
    openViews.delete(this);
    window.clearInterval(this._timer);
    window.clearTimeout(this._pictureTimer);
    this._resizer.disconnect();
    this._themeWatch.disconnect();
    this._scene?.dispose();
    this.node.remove();
  }

  // --- the scene ----------------------------------------------------------------------

  /**
   * The WebGL scene, made when the view first has something to show: three.js (about
   * 0.7 MB) is fetched then, not with JupyterLab's start. Where WebGL is missing the view
   * falls back to the server's pictures.
   */
  private _ensureScene(): Promise<void> {
    if (!this._sceneReady) {
      this._sceneReady = this._loadScene();
    }
    return this._sceneReady;
  }

  private async _loadScene(): Promise<void> {
    let reason: string;
    try {
      const { CadScene } = await import('./scene');
      if (this._disposed) {
        return;
      }
      this._attachScene(new CadScene(this._stage));
      return;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    this.node.dataset.renderer = 'picture';
    this._notice.textContent =
      'WebGL is not available in this browser, so this is a picture rendered by the ' +
      'server: no orbit, section or picking.';
    this._notice.title = reason;
    this._notice.hidden = false;
  }

  private _attachScene(scene: CadScene): void {
    this._scene = scene;
    scene.onCameraChange = () => this._publishCamera();
    scene.onFrame = time => this._framed(time);
    scene.canvas.addEventListener('pointerdown', this._pressed);
    scene.canvas.addEventListener('pointerup', this._released);
    scene.canvas.classList.add('jp-SolidTypeView3D-canvas');
    scene.canvas.setAttribute('aria-label', 'The CAD model in 3D: drag to orbit, click to pick');
    scene.canvas.style.visibility = this.node.dataset.state === 'shown' ? 'visible' : 'hidden';
    scene.setSection(this._section.axis, this._section.fraction);
    this._applyTheme();
    scene.resize();
    this.node.dataset.renderer = 'webgl';
  }

  // --- fetching -----------------------------------------------------------------------

  private async _fetch(showBusy = false): Promise<void> {
    const query = this._query;
    if (!query) {
      return;
    }
    if (this._inFlight) {
      this._again = true;
      return;
    }
    this._inFlight = true;
    const busy = window.setTimeout(
      () => {
        this._fetchBusy = true;
        this._updateBusy();
      },
      showBusy ? 0 : BUSY_DELAY_MS
    );
    try {
      const headers: Record<string, string> = {};
      if (this._etag) {
        headers['If-None-Match'] = this._etag;
      }
      // `default` with our own If-None-Match makes the browser pass the 304 through (and
      // ServerConnection adds its cache-busting query only to `no-store` requests).
      const response = await ServerConnection.makeRequest(
        URLExt.join(this._settings.baseUrl, TESSELLATION_ROUTE) + URLExt.objectToQueryString(query),
        { cache: 'default', headers },
        this._settings
      );
      if (JSON.stringify(query) !== this._sourceKey) {
        return; // the source changed meanwhile
      }
      if (response.status === 304) {
        return;
      }
      if (!response.ok) {
        await this._failed(response);
        return;
      }
      const body = await response.text();
      await this._ensureScene();
      if (JSON.stringify(query) !== this._sourceKey || this._disposed) {
        return;
      }
      const started = performance.now();
      const data: Json = JSON.parse(body);
      this._etag = response.headers.get('ETag');
      this._apply(data);
      // Parsing and building the scene: what a new model costs the page before its frame.
      this.node.dataset.buildMs = String(Math.round(performance.now() - started));
    } catch (error) {
      if (this.node.dataset.state !== 'shown') {
        this._show('error', error instanceof Error ? error.message : String(error));
      }
    } finally {
      window.clearTimeout(busy);
      this._fetchBusy = false;
      this._inFlight = false;
      this._updateBusy();
      if (this._again) {
        this._again = false;
        void this._fetch();
      }
    }
  }

  private async _failed(response: Response): Promise<void> {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).message || message;
    } catch {
      // keep the status
    }
    this._etag = null;
    this._scene?.setModel({ parts: [] });
    this._references = {};
    // No document here, or not ours to read: asking again each second would change nothing
    // (a tool result of the chat, or another source, asks again).
    this._pollPaused = response.status === 404 || response.status === 403;
    if (response.status === 404 && this._query?.session) {
      this._show('empty', this._options.noDocument ?? message);
      this.node.dataset.reason = 'no-document';
    } else if (response.status === 422) {
      // Nothing to show yet (no features, a sketch only, a file that does not parse).
      const hint = this._options.emptyHint;
      this._show('empty', hint ? `${message}. ${hint}` : message);
    } else {
      this._show('error', message);
    }
  }

  private _apply(data: Json): void {
    // How many answers were drawn: polls answered 304 draw nothing (tests read it).
    this.node.dataset.models = String(Number(this.node.dataset.models ?? 0) + 1);
    this.node.dataset.revision = String(data.revision ?? '');
    if (!data.shapes) {
      this._scene?.setModel({ parts: [] });
      this._references = {};
      const hint = this._options.emptyHint;
      this._show('empty', 'The document has no solid yet' + (hint ? `. ${hint}` : ''));
      return;
    }
    this._references = (data.references ?? {}) as References;
    this._documentPath = typeof data.path === 'string' ? data.path : null;
    if (this._documentPath && agentByDocument.has(this._documentPath)) {
      this._agentSelection = agentByDocument.get(this._documentPath) ?? null;
    }
    if (this._scene) {
      this._scene.setModel(data.shapes, data.instances);
      this._reresolveUser();
      this._applyHighlights();
      this.node.dataset.faces = String(this._scene.faceCount);
      this._publishCamera();
      this._show('shown', '');
      this._drawnAwaited = this._awaited?.revision === data.revision;
    } else {
      this._show('shown', '');
      this._schedulePicture(0);
    }
  }

  // --- the picture fallback -----------------------------------------------------------

  private _schedulePicture(delay = 200): void {
    window.clearTimeout(this._pictureTimer);
    this._pictureTimer = window.setTimeout(() => void this._loadPicture(), delay);
  }

  private async _loadPicture(): Promise<void> {
    if (!this._query || this.node.dataset.renderer !== 'picture') {
      return;
    }
    const width = Math.max(64, Math.min(2048, Math.round(this._stage.clientWidth || 640)));
    const height = Math.max(64, Math.min(2048, Math.round(this._stage.clientHeight || 480)));
    const url =
      URLExt.join(this._settings.baseUrl, RENDER_ROUTE) +
      URLExt.objectToQueryString({
        ...this._query,
        view: this._view,
        width: String(width),
        height: String(height)
      });
    const response = await ServerConnection.makeRequest(url, { cache: 'no-cache' }, this._settings);
    if (!response.ok) {
      return;
    }
    const old = this._picture.src;
    this._picture.src = URL.createObjectURL(await response.blob());
    this._picture.dataset.view = this._view;
    this._picture.hidden = false;
    if (old.startsWith('blob:')) {
      URL.revokeObjectURL(old);
    }
  }

  // --- picking ------------------------------------------------------------------------

  private _pressed = (event: PointerEvent): void => {
    this._press = event.button === 0 ? { x: event.clientX, y: event.clientY } : null;
  };

  private _released = (event: PointerEvent): void => {
    const press = this._press;
    this._press = null;
    if (!press || !this._scene || event.button !== 0) {
      return;
    }
    if (Math.hypot(event.clientX - press.x, event.clientY - press.y) > CLICK_SLOP_PX) {
      return; // an orbit or a pan, not a pick
    }
    const path = this._documentPath;
    if (!path) {
      return;
    }
    const element = this._scene.pick(event.clientX, event.clientY);
    if (!element) {
      if (this._user.size) {
        publishPicks(path, []); // a click on nothing forgets the picks
      }
      return;
    }
    const picks = new Map(this._user);
    const key = elementKey(element);
    const descriptor = descriptorOf(this._references, element);
    if (picks.has(key)) {
      picks.delete(key);
    } else if (descriptor && picks.size < MAX_SELECTION) {
      picks.set(key, { element, descriptor, kind: element.kind });
    }
    publishPicks(path, [...picks.values()].map(({ descriptor, kind }) => ({ descriptor, kind })));
  };

  /**
   * After a new model: keep the picks that still name an element (by their descriptor), as
   * this revision describes them, for every view of the document.
   */
  private _reresolveUser(): void {
    const path = this._documentPath;
    if (!path) {
      return;
    }
    const old = picksByDocument.get(path) ?? [];
    const kept: IPicked[] = [];
    for (const pick of old) {
      const [element] = resolve([pick.descriptor], pick.kind, this._references);
      const descriptor = element ? descriptorOf(this._references, element) : null;
      if (element && descriptor) {
        kept.push({ descriptor, kind: element.kind });
      }
    }
    if (JSON.stringify(kept) !== JSON.stringify(old)) {
      publishPicks(path, kept);
    } else {
      this.adoptPicks(path); // the same picks, on this view's new model
    }
  }

  private _selectionChanged(): void {
    const picks = [...this._user.values()];
    const faces = picks.filter(p => p.kind === 'face').length;
    const edges = picks.length - faces;
    const words = [];
    if (faces) {
      words.push(`${faces} face${faces === 1 ? '' : 's'}`);
    }
    if (edges) {
      words.push(`${edges} edge${edges === 1 ? '' : 's'}`);
    }
    this._selectionText.textContent = words.length ? `${words.join(', ')} picked` : '';
    this._selectionInfo.hidden = !words.length;
    this.node.dataset.selection = picks
      .map(p => `${p.kind}:${p.element.part}#${p.element.index}`)
      .join(' ');
    this._applyHighlights();
    this.onSelectionChange?.();
  }

  private _applyHighlights(): void {
    if (!this._scene) {
      return;
    }
    const agent = this._agentSelection
      ? resolve(
          this._agentSelection.refs,
          this._agentSelection.kind,
          this._references,
          this._agentSelection.body
        )
      : [];
    this.node.dataset.agentSelection = String(agent.length);
    this._scene.setHighlights(
      agent,
      [...this._user.values()].map(p => p.element)
    );
  }

  // --- showing ------------------------------------------------------------------------

  private _show(state: 'loading' | 'shown' | 'empty' | 'error', message: string): void {
    this.node.dataset.state = state;
    delete this.node.dataset.reason;
    this._message.textContent = message;
    this._message.hidden = !message;
    if (this._scene) {
      this._scene.canvas.style.visibility = state === 'shown' ? 'visible' : 'hidden';
    } else if (state !== 'shown') {
      this._picture.hidden = true;
    }
  }

  private _framed(time: number): void {
    // The first frame drawn with the revision a tool result named: the time-to-view figure.
    if (this._drawnAwaited && this._awaited) {
      this.node.dataset.updateMs = String(Math.round(time - this._awaited.at));
      this._awaited = null;
      this._drawnAwaited = false;
    }
  }

  private _publishCamera(): void {
    if (this._scene) {
      this.node.dataset.camera = JSON.stringify(this._scene.cameraState());
    }
  }

  private _updateBusy(): void {
    const busy = this._fetchBusy || this._agentBusy;
    this._status.textContent = busy ? 'updating…' : '';
    this.node.toggleAttribute('data-updating', busy);
  }

  private _applyTheme(): void {
    const dark = document.body.dataset.jpThemeLight === 'false';
    this.node.dataset.theme = dark ? 'dark' : 'light';
    this._scene?.setTheme(dark);
  }

  private _visible(): boolean {
    return (
      document.visibilityState === 'visible' &&
      this.node.isConnected &&
      this.node.offsetParent !== null &&
      this.node.dataset.collapsed === undefined
    );
  }

  private _setCollapsed(collapsed: boolean): void {
    if (collapsed) {
      this.node.dataset.collapsed = '';
    } else {
      delete this.node.dataset.collapsed;
    }
    this._collapse.textContent = collapsed ? '▸' : '▾';
    this._collapse.title = collapsed ? 'Show the 3D view' : 'Fold the 3D view';
    this._collapse.setAttribute('aria-expanded', String(!collapsed));
    window.localStorage.setItem(COLLAPSED_KEY, collapsed ? '1' : '0');
    this.onCollapse?.(collapsed);
    if (!collapsed) {
      void this._fetch();
    }
  }

  /** Called when the view is folded or unfolded (the side panel gives the room back). */
  onCollapse: ((collapsed: boolean) => void) | null = null;

  get collapsed(): boolean {
    return this.node.dataset.collapsed !== undefined;
  }

  // --- the toolbar --------------------------------------------------------------------

  private _toolbar(): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'jp-SolidTypeView3D-toolbar';
    const button = (label: string, title: string, action: () => void): HTMLButtonElement => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'jp-SolidTypeView3D-button';
      b.textContent = label;
      b.title = title;
      b.onclick = action;
      return b;
    };
    if (this._options.collapsible) {
      this._collapse = button('▾', 'Fold the 3D view', () => this._setCollapsed(!this.collapsed));
      this._collapse.classList.add('jp-SolidTypeView3D-collapse');
      bar.append(this._collapse);
      const title = document.createElement('span');
      title.className = 'jp-SolidTypeView3D-title';
      title.textContent = '3D';
      bar.append(title);
    }
    const fit = button('Fit', 'Frame the whole model', () => this._scene?.fit());
    fit.dataset.action = 'fit';
    bar.append(fit);
    for (const view of VIEWS) {
      const b = button(view, `Look from the ${view === 'iso' ? 'isometric corner' : view}`, () => {
        this._view = view;
        if (this._scene) {
          this._scene.setView(view);
        } else {
          void this._loadPicture();
        }
      });
      b.dataset.view = view;
      bar.append(b);
    }
    const section = document.createElement('select');
    section.className = 'jp-SolidTypeView3D-section';
    section.title = 'Cut the model by a plane across an axis';
    for (const [value, label] of [
      ['', 'No section'],
      ['x', 'Section X'],
      ['y', 'Section Y'],
      ['z', 'Section Z']
    ]) {
      section.append(new Option(label, value));
    }
    const position = document.createElement('input');
    position.type = 'range';
    position.min = '0';
    position.max = '100';
    position.value = '50';
    position.className = 'jp-SolidTypeView3D-section-position';
    position.title = 'Where the section plane cuts (along its axis)';
    position.hidden = true;
    const applySection = () => {
      const axis = (section.value || null) as SectionAxis | null;
      position.hidden = !axis;
      this._section = { axis, fraction: Number(position.value) / 100 };
      this._scene?.setSection(axis, this._section.fraction);
      this.node.dataset.section = axis ?? '';
    };
    section.onchange = applySection;
    position.oninput = applySection;
    this._selectionInfo.className = 'jp-SolidTypeView3D-picked';
    this._selectionInfo.hidden = true;
    const clear = button('✕', 'Forget what you picked', () => {
      if (this._documentPath) {
        publishPicks(this._documentPath, []);
      }
    });
    clear.classList.add('jp-SolidTypeView3D-clear');
    this._selectionInfo.append(this._selectionText, clear);
    this._status.className = 'jp-SolidTypeView3D-status';
    this._status.setAttribute('role', 'status');
    this._notice.className = 'jp-SolidTypeView3D-notice';
    this._notice.hidden = true;
    bar.append(section, position, this._selectionInfo, this._status);
    const wrap = document.createElement('div');
    wrap.className = 'jp-SolidTypeView3D-head';
    wrap.append(bar, this._notice);
    return wrap;
  }

  private _legend(): HTMLElement {
    const legend = document.createElement('div');
    legend.className = 'jp-SolidTypeView3D-legend';
    for (const [colour, label] of [
      [AGENT_COLOR, 'agent'],
      [USER_COLOR, 'you']
    ]) {
      const swatch = document.createElement('span');
      swatch.className = 'jp-SolidTypeView3D-swatch';
      swatch.style.background = colour;
      legend.append(swatch, document.createTextNode(label));
    }
    legend.title = 'Colours: what the agent works on, what you picked (click faces or edges)';
    return legend;
  }

  private _options: IModelViewOptions;
  private _settings: ServerConnection.ISettings;
  private _scene: CadScene | null = null;
  private _sceneReady: Promise<void> | null = null;
  private _disposed = false;
  private _section: { axis: SectionAxis | null; fraction: number } = {
    axis: null,
    fraction: 0.5
  };
  private _stage = document.createElement('div');
  private _message = document.createElement('div');
  private _picture = document.createElement('img');
  private _notice = document.createElement('div');
  private _status = document.createElement('span');
  private _selectionInfo = document.createElement('span');
  private _selectionText = document.createElement('span');
  private _collapse = document.createElement('button');
  private _resizer: ResizeObserver;
  private _themeWatch: MutationObserver;
  private _timer = 0;
  private _pictureTimer = 0;
  private _query: Record<string, string> | null = null;
  private _sourceKey = '\u0000';
  private _etag: string | null = null;
  private _inFlight = false;
  private _pollPaused = false;
  private _again = false;
  private _fetchBusy = false;
  private _agentBusy = false;
  private _references: References = {};
  /** The contents path of the document shown (from the route's answer). */
  private _documentPath: string | null = null;
  private _user = new Map<string, IPick>();
  private _agentSelection: IAgentSelection | null = null;
  private _press: { x: number; y: number } | null = null;
  private _view: StandardView = 'iso';
  private _awaited: { at: number; revision: string } | null = null;
  private _drawnAwaited = false;
}
