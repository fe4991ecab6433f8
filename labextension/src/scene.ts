/**
 * The WebGL scene of the 3D view: ocp-tessellate meshes (the shape tree the tessellation
 * route returns, as jupyter-cadquery's viewer receives it) drawn with three.js, one mesh per
 * part with a draw group per run of faces of one colour, edges as line segments, an
 * orthographic camera orbiting with OrbitControls, a section plane, and picking of the face or
 * edge under the pointer.
 *
 * Why three.js rather than three-cad-viewer (the viewer jupyter-cadquery is built on): npm has
 * three-cad-viewer 3.1.6 at newest (jupyter-cadquery 5.2 bundles 5.1.3, which is not on npm).
 * 3.1.6 does read ocp-tessellate 3.6's format (version 3, `triangles_per_face`,
 * `segments_per_edge`, once each `{ref}` is replaced by its instance) and reports double-click
 * picks of exploded faces; but, read in its sources: (1) its Display writes `data-theme` on the
 * page's <html> element and ships global CSS (`canvas {outline: none !important}`), changing
 * JupyterLab's own page; (2) its toolbar is 21 fixed-size buttons and its overflow menu is
 * commented out (display.js `handleMoreButton`), so it clips in a 300-450 px side panel
 * (jupyter-cadquery forces 780 px of canvas); (3) every `render()` builds a new scene, camera,
 * controls and tree, where a live view must swap meshes in place with the camera untouched;
 * (4) its measure tools need a Python backend. The scene below is the part of it this panel
 * needs: meshes, edges, camera, section, picking.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { LineMaterial } from 'three/examples/jsm/lines/LineMaterial.js';
import { LineSegments2 } from 'three/examples/jsm/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/examples/jsm/lines/LineSegmentsGeometry.js';

import { AGENT_COLOR, MODEL_COLOR, USER_COLOR } from './colors';
import { elementKey, IElement } from './selection';

type Json = Record<string, any>;

export type StandardView = 'iso' | 'top' | 'front' | 'right';
export type SectionAxis = 'x' | 'y' | 'z';

/** Direction from the model's centre to the camera, as the server's pictures (cad/render.py). */
const VIEW_DIRECTIONS: Record<StandardView, [number, number, number]> = {
  iso: [1, -1, 1],
  // Straight down, tilted by a hair so the orbit keeps +Y up on screen (Z is up).
  top: [0, -1e-4, 1],
  front: [0, -1, 0],
  right: [1, 0, 0]
};


const THEMES = {
  // cap: the inside of the solid where the section plane cuts it (grey, unlit).
  light: { background: '#f6f6f6', edges: '#2b2b2b', cap: '#8d8d8d' },
  dark: { background: '#1f2124', edges: '#111111', cap: '#6f6f6f' }
};

/** How close (in pixels) a click must come to an edge to pick the edge over the face. */
const EDGE_PICK_PX = 6;

/** One meshed part: its mesh, edges, and where each face and edge starts in them. */
interface IPart {
  id: string;
  geometry: THREE.BufferGeometry;
  front: THREE.Mesh;
  /** Stencil passes of the section's cap (back faces count up, front faces down). */
  stencil: THREE.Mesh[];
  lines: THREE.LineSegments;
  /** First triangle of each face, then the triangle count (prefix sums). */
  faceStarts: number[];
  /** First segment of each edge, then the segment count. */
  edgeStarts: number[];
  edges: Float32Array;
}

export class CadScene {
  constructor(host: HTMLElement) {
    this._host = host;
    // Throws where WebGL is not available: the caller shows the server's picture instead.
    // The stencil buffer draws the section's caps.
    this.renderer = new THREE.WebGLRenderer({ antialias: true, stencil: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.renderer.localClippingEnabled = true;
    this.canvas = this.renderer.domElement;
    host.append(this.canvas);
    this._camera.up.set(0, 0, 1);
    // A light that moves with the camera, from above its left shoulder: faces facing
    // different ways are told apart by their shade whatever the view.
    const light = new THREE.DirectionalLight(0xffffff, 2.2);
    light.position.set(-0.5, 1, 1);
    light.target.position.set(0, 0, 0);
    this._camera.add(light, light.target);
    this._scene.add(this._camera, new THREE.AmbientLight(0xffffff, 0.75), this._model);
    // The cap: a plane on the section, drawn only where the solid is cut (the stencil
    // counts back faces minus front faces behind each pixel), then the stencil is cleared.
    this._cap.renderOrder = 1.1;
    this._cap.visible = false;
    this._cap.onAfterRender = renderer => renderer.clearStencil();
    this._scene.add(this._cap);
    this._controls = new OrbitControls(this._camera, this.canvas);
    this._controls.enableDamping = false;
    this._controls.zoomToCursor = true;
    this._controls.addEventListener('change', () => {
      this.requestRender();
      this.onCameraChange?.();
    });
    this.setTheme(false);
  }

  readonly canvas: HTMLCanvasElement;
  readonly renderer: THREE.WebGLRenderer;
  /** Called after the user moved the camera. */
  onCameraChange: (() => void) | null = null;
  /** Called after each frame drawn, with the time it was drawn. */
  onFrame: ((time: number) => void) | null = null;

  get hasModel(): boolean {
    return this._parts.length > 0;
  }

  get faceCount(): number {
    return this._parts.reduce((n, p) => n + p.faceStarts.length - 1, 0);
  }

  /**
   * Show a new tessellation in place of the old one, the camera untouched (the first model
   * is framed in the iso view).
   */
  setModel(shapes: Json, instances?: Json[]): void {
    const frameIt = !this.hasModel;
    this._clearModel();
    for (const part of leafParts(shapes)) {
      const built = this._buildPart(part, instances);
      if (built) {
        this._parts.push(built);
      }
    }
    this._bounds.makeEmpty();
    for (const part of this._parts) {
      part.geometry.computeBoundingBox();
      const box = part.geometry.boundingBox!.clone().applyMatrix4(part.front.matrixWorld);
      this._bounds.union(box);
    }
    this._applyHighlights();
    this._applySection();
    this._updateDepthRange();
    if (frameIt && this.hasModel) {
      this.setView('iso');
    }
    this.requestRender();
  }

  /** Colour the agent's elements and the user's (the user's colour wins where both). */
  setHighlights(agent: IElement[], user: IElement[]): void {
    this._agent = agent;
    this._user = user;
    this._applyHighlights();
    this.requestRender();
  }

  /** The face or edge under a point of the canvas (client coordinates), or null. */
  pick(clientX: number, clientY: number): IElement | null {
    const rect = this.canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) {
      return null;
    }
    const pointer = new THREE.Vector2(
      ((clientX - rect.left) / rect.width) * 2 - 1,
      -((clientY - rect.top) / rect.height) * 2 + 1
    );
    const raycaster = new THREE.Raycaster();
    const worldPerPixel =
      (this._camera.top - this._camera.bottom) / this._camera.zoom / rect.height;
    raycaster.params.Line = { threshold: EDGE_PICK_PX * worldPerPixel };
    raycaster.setFromCamera(pointer, this._camera);
    const section = this._section;
    const visible = (hit: THREE.Intersection) =>
      !section || section.distanceToPoint(hit.point) >= 0;
    const faceHit = raycaster
      .intersectObjects(this._parts.map(p => p.front), false)
      .find(visible);
    const edgeHits = raycaster
      .intersectObjects(this._parts.map(p => p.lines), false)
      .filter(visible);
    // An edge wins when it is not hidden behind the face hit (it bounds that face, or stands
    // in front of it), so edges can be picked where they meet the face.
    const slack = 2 * EDGE_PICK_PX * worldPerPixel;
    const edgeHit = edgeHits.find(hit => !faceHit || hit.distance <= faceHit.distance + slack);
    if (edgeHit && edgeHit.index !== undefined) {
      const part = this._parts.find(p => p.lines === edgeHit.object)!;
      const index = findRun(part.edgeStarts, Math.floor(edgeHit.index / 2));
      if (index >= 0) {
        return { part: part.id, kind: 'edge', index };
      }
    }
    if (faceHit && faceHit.faceIndex !== undefined && faceHit.faceIndex !== null) {
      const part = this._parts.find(p => p.front === faceHit.object)!;
      const index = findRun(part.faceStarts, faceHit.faceIndex);
      if (index >= 0) {
        return { part: part.id, kind: 'face', index };
      }
    }
    return null;
  }

  /** Look at the model from a standard direction, framing it. */
  setView(view: StandardView): void {
    const sphere = this._bounds.isEmpty()
      ? new THREE.Sphere(new THREE.Vector3(), 10)
      : this._bounds.getBoundingSphere(new THREE.Sphere());
    const radius = Math.max(sphere.radius, 1e-3);
    const direction = new THREE.Vector3(...VIEW_DIRECTIONS[view]).normalize();
    this._controls.target.copy(sphere.center);
    this._camera.position.copy(sphere.center).addScaledVector(direction, radius * 4);
    this._frameRadius = radius * 1.15;
    this._camera.zoom = 1;
    this._fitFrustum();
    this._updateDepthRange();
    this._controls.update();
    this.requestRender();
  }

  /** Frame the model from where the camera looks now. */
  fit(): void {
    const sphere = this._bounds.getBoundingSphere(new THREE.Sphere());
    if (this._bounds.isEmpty()) {
      return;
    }
    const direction = this._camera.position.clone().sub(this._controls.target).normalize();
    this._controls.target.copy(sphere.center);
    this._camera.position.copy(sphere.center).addScaledVector(direction, sphere.radius * 4);
    this._frameRadius = Math.max(sphere.radius, 1e-3) * 1.15;
    this._camera.zoom = 1;
    this._fitFrustum();
    this._updateDepthRange();
    this._controls.update();
    this.requestRender();
  }

  /** Cut the model by a plane across `axis` at `fraction` (0..1) of its extent; null: none. */
  setSection(axis: SectionAxis | null, fraction = 0.5): void {
    this._sectionAxis = axis;
    this._sectionFraction = Math.min(1, Math.max(0, fraction));
    this._applySection();
    this.requestRender();
  }

  setTheme(dark: boolean): void {
    const theme = dark ? THEMES.dark : THEMES.light;
    this.renderer.setClearColor(theme.background);
    this._edgeMaterial.color.set(theme.edges);
    this._capMaterial.color.set(theme.cap);
    this.requestRender();
  }

  /** Follow the host's size (called by the view's ResizeObserver). */
  resize(): void {
    const width = Math.max(1, this._host.clientWidth);
    const height = Math.max(1, this._host.clientHeight);
    this.renderer.setSize(width, height, true);
    for (const material of [this._agentLine, this._userLine]) {
      material.resolution.set(width, height);
    }
    this._fitFrustum();
    this.requestRender();
  }

  /** Where the camera is (for tests and the "camera kept" promise), rounded. */
  cameraState(): Json {
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      position: this._camera.position.toArray().map(round),
      target: this._controls.target.toArray().map(round),
      zoom: round(this._camera.zoom)
    };
  }

  requestRender(): void {
    if (this._frame) {
      return;
    }
    this._frame = requestAnimationFrame(time => {
      this._frame = 0;
      this.renderer.render(this._scene, this._camera);
      this.onFrame?.(time);
    });
  }

  dispose(): void {
    cancelAnimationFrame(this._frame);
    this._clearModel();
    this._controls.dispose();
    for (const material of this._materials()) {
      material.dispose();
    }
    this._capMaterial.dispose();
    this._cap.geometry.dispose();
    this.renderer.dispose();
    // Give the WebGL context back now: a page gets only a few (each open view holds one).
    this.renderer.forceContextLoss();
    this.canvas.remove();
  }

  // --- building -----------------------------------------------------------------------

  private _buildPart(part: Json, instances?: Json[]): IPart | null {
    let shape = part.shape;
    if (shape && typeof shape.ref === 'number' && instances) {
      shape = instances[shape.ref];
    }
    if (!shape || !shape.vertices || !shape.triangles) {
      return null;
    }
    const vertices = new Float32Array(flat(shape.vertices));
    const normals = new Float32Array(flat(shape.normals ?? []));
    const triangles = new Uint32Array(flat(shape.triangles));
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(vertices, 3));
    if (normals.length === vertices.length) {
      geometry.setAttribute('normal', new THREE.BufferAttribute(normals, 3));
    } else {
      geometry.computeVertexNormals();
    }
    geometry.setIndex(new THREE.BufferAttribute(triangles, 1));
    const perFace = shape.triangles_per_face
      ? Array.from(flat(shape.triangles_per_face))
      : [triangles.length / 3];
    const edges = new Float32Array(flat(shape.edges ?? []));
    const perEdge = shape.segments_per_edge
      ? Array.from(flat(shape.segments_per_edge))
      : [edges.length / 6];
    const front = new THREE.Mesh(geometry, [
      this._faceMaterial,
      this._agentFace,
      this._userFace
    ]);
    const stencil = [this._stencilBack, this._stencilFront].map(material => {
      const mesh = new THREE.Mesh(geometry, material);
      mesh.renderOrder = 1;
      mesh.visible = this._section !== null;
      return mesh;
    });
    front.renderOrder = 2; // after the cap, which it hides where it is in front
    const lineGeometry = new THREE.BufferGeometry();
    lineGeometry.setAttribute('position', new THREE.BufferAttribute(edges, 3));
    const lines = new THREE.LineSegments(lineGeometry, this._edgeMaterial);
    const group = new THREE.Group();
    lines.renderOrder = 2;
    group.add(...stencil, front, lines);
    const loc = part.loc;
    if (Array.isArray(loc) && Array.isArray(loc[0]) && Array.isArray(loc[1])) {
      group.position.set(loc[0][0], loc[0][1], loc[0][2]);
      group.quaternion.set(loc[1][0], loc[1][1], loc[1][2], loc[1][3]);
    }
    this._model.add(group);
    group.updateMatrixWorld(true);
    return {
      id: String(part.id),
      geometry,
      front,
      stencil,
      lines,
      faceStarts: prefixSums(perFace),
      edgeStarts: prefixSums(perEdge),
      edges
    };
  }

  private _clearModel(): void {
    for (const part of this._parts) {
      part.geometry.dispose();
      part.lines.geometry.dispose();
    }
    this._clearOverlays();
    this._parts = [];
    this._model.clear();
  }

  private _clearOverlays(): void {
    for (const overlay of this._overlays) {
      overlay.geometry.dispose();
      overlay.removeFromParent();
    }
    this._overlays = [];
  }

  private _applyHighlights(): void {
    const colour = new Map<string, number>();
    for (const element of this._agent) {
      colour.set(elementKey(element), 1);
    }
    for (const element of this._user) {
      colour.set(elementKey(element), 2);
    }
    this._clearOverlays();
    for (const part of this._parts) {
      // Faces: one draw group per run of faces of one colour.
      part.geometry.clearGroups();
      const faces = part.faceStarts.length - 1;
      let runStart = 0;
      let runColour = -1;
      for (let face = 0; face <= faces; face++) {
        // -2 past the last face closes the last run.
        const key = elementKey({ part: part.id, kind: 'face', index: face });
        const c = face < faces ? (colour.get(key) ?? 0) : -2;
        if (c !== runColour) {
          if (runColour >= 0) {
            const start = part.faceStarts[runStart] * 3;
            const count = part.faceStarts[face] * 3 - start;
            part.geometry.addGroup(start, count, runColour);
          }
          runStart = face;
          runColour = c;
        }
      }
      // Edges: drawn again, thick, in the agent's or the user's colour.
      for (const [which, material] of [
        [1, this._agentLine],
        [2, this._userLine]
      ] as const) {
        const picked: number[] = [];
        for (let edge = 0; edge < part.edgeStarts.length - 1; edge++) {
          if (colour.get(elementKey({ part: part.id, kind: 'edge', index: edge })) === which) {
            const from = part.edgeStarts[edge] * 6;
            const to = part.edgeStarts[edge + 1] * 6;
            for (let i = from; i < to; i++) {
              picked.push(part.edges[i]);
            }
          }
        }
        if (picked.length) {
          const geometry = new LineSegmentsGeometry();
          geometry.setPositions(picked);
          const overlay = new LineSegments2(geometry, material);
          overlay.renderOrder = 3; // over the faces and edges
          part.front.parent!.add(overlay);
          this._overlays.push(overlay);
        }
      }
    }
  }

  private _applySection(): void {
    const axis = this._sectionAxis;
    if (!axis || this._bounds.isEmpty()) {
      this._section = null;
    } else {
      const i = { x: 0, y: 1, z: 2 }[axis];
      const low = this._bounds.min.getComponent(i);
      const high = this._bounds.max.getComponent(i);
      const normal = new THREE.Vector3();
      normal.setComponent(i, -1);
      // Keeps what lies below the cut: the plane's positive side.
      this._section = new THREE.Plane(normal, low + (high - low) * this._sectionFraction);
    }
    const planes = this._section ? [this._section] : [];
    for (const material of this._materials()) {
      material.clippingPlanes = planes;
    }
    for (const part of this._parts) {
      part.stencil.forEach(mesh => (mesh.visible = this._section !== null));
    }
    this._cap.visible = this._section !== null;
    if (this._section) {
      const sphere = this._bounds.getBoundingSphere(new THREE.Sphere());
      const centre = this._section.projectPoint(sphere.center, new THREE.Vector3());
      const size = Math.max(sphere.radius, 1e-3) * 4;
      this._cap.scale.set(size, size, 1);
      this._cap.position.copy(centre);
      this._cap.lookAt(centre.clone().add(this._section.normal));
      this._cap.updateMatrixWorld();
    }
  }

  private _materials(): THREE.Material[] {
    return [
      this._faceMaterial,
      this._agentFace,
      this._userFace,
      this._stencilBack,
      this._stencilFront,
      this._edgeMaterial,
      this._agentLine,
      this._userLine
    ];
  }

  private _fitFrustum(): void {
    const aspect = Math.max(1, this._host.clientWidth) / Math.max(1, this._host.clientHeight);
    // The framed sphere fits the narrower side: a tall side panel shows the whole model too.
    const halfHeight = aspect >= 1 ? this._frameRadius : this._frameRadius / aspect;
    this._camera.top = halfHeight;
    this._camera.bottom = -halfHeight;
    this._camera.left = -halfHeight * aspect;
    this._camera.right = halfHeight * aspect;
    this._camera.updateProjectionMatrix();
  }

  /** Near and far planes that hold the whole model wherever the camera is. */
  private _updateDepthRange(): void {
    if (this._bounds.isEmpty()) {
      return;
    }
    const sphere = this._bounds.getBoundingSphere(new THREE.Sphere());
    const distance = this._camera.position.distanceTo(sphere.center);
    const reach = Math.max(sphere.radius, 1e-3) * 4 + distance;
    // An orthographic camera takes a negative near plane: nothing behind it is ever cut.
    this._camera.near = -reach;
    this._camera.far = reach;
    this._camera.updateProjectionMatrix();
  }

  private _host: HTMLElement;
  private _scene = new THREE.Scene();
  private _camera = new THREE.OrthographicCamera(-1, 1, 1, -1, -100, 100);
  private _controls: OrbitControls;
  private _model = new THREE.Group();
  private _parts: IPart[] = [];
  private _overlays: LineSegments2[] = [];
  private _bounds = new THREE.Box3();
  /** The radius the frustum frames at zoom 1 (the model's, with a margin, when fitted). */
  private _frameRadius = 10;
  private _agent: IElement[] = [];
  private _user: IElement[] = [];
  private _section: THREE.Plane | null = null;
  private _sectionAxis: SectionAxis | null = null;
  private _sectionFraction = 0.5;
  private _frame = 0;
  // Faces are pushed back a little so their edges draw on top of them.
  private _faceMaterial = faceMaterial(MODEL_COLOR);
  private _agentFace = faceMaterial(AGENT_COLOR);
  private _userFace = faceMaterial(USER_COLOR);
  // The section's cap: where the stencil says the plane is inside the solid.
  private _capMaterial = new THREE.MeshBasicMaterial({
    side: THREE.DoubleSide,
    stencilWrite: true,
    stencilRef: 0,
    stencilFunc: THREE.NotEqualStencilFunc,
    stencilFail: THREE.ReplaceStencilOp,
    stencilZFail: THREE.ReplaceStencilOp,
    stencilZPass: THREE.ReplaceStencilOp
  });
  private _cap = new THREE.Mesh(new THREE.PlaneGeometry(1, 1), this._capMaterial);
  private _stencilBack = stencilMaterial(THREE.BackSide, THREE.IncrementWrapStencilOp);
  private _stencilFront = stencilMaterial(THREE.FrontSide, THREE.DecrementWrapStencilOp);
  private _edgeMaterial = new THREE.LineBasicMaterial();
  private _agentLine = new LineMaterial({ color: AGENT_COLOR, linewidth: 4 });
  private _userLine = new LineMaterial({ color: USER_COLOR, linewidth: 4 });
}

/** A pass that only counts faces in the stencil buffer (no colour, no depth). */
function stencilMaterial(side: THREE.Side, op: THREE.StencilOp): THREE.MeshBasicMaterial {
  return new THREE.MeshBasicMaterial({
    side,
    depthWrite: false,
    depthTest: false,
    colorWrite: false,
    stencilWrite: true,
    stencilFunc: THREE.AlwaysStencilFunc,
    stencilFail: op,
    stencilZFail: op,
    stencilZPass: op
  });
}

function faceMaterial(color: string): THREE.MeshStandardMaterial {
  return new THREE.MeshStandardMaterial({
    color,
    metalness: 0.1,
    roughness: 0.65,
    side: THREE.FrontSide,
    polygonOffset: true,
    polygonOffsetFactor: 1,
    polygonOffsetUnits: 1
  });
}

/** The parts of a shape tree that carry a mesh (nested groups are walked). */
function leafParts(tree: Json): Json[] {
  const found: Json[] = [];
  const walk = (node: Json) => {
    if (Array.isArray(node.parts)) {
      node.parts.forEach(walk);
    } else if (node.shape && (node.type === 'shapes' || node.type === undefined)) {
      found.push(node);
    }
  };
  walk(tree);
  return found;
}

/**
 * A flat list of numbers from what the route sends for an array: the base64 buffer form
 * cad-viewer-widget sends to three-cad-viewer (`{shape, dtype, buffer, codec: "b64"}`), or a
 * list, possibly nested (segments as [[x,y,z],[x,y,z]]).
 */
function flat(value: any): ArrayLike<number> {
  if (ArrayBuffer.isView(value)) {
    return value as unknown as ArrayLike<number>;
  }
  if (value && typeof value === 'object' && typeof value.buffer === 'string') {
    return decodeBuffer(value.buffer, String(value.dtype));
  }
  if (!Array.isArray(value)) {
    return [];
  }
  return Array.isArray(value[0]) ? (value.flat(Infinity) as number[]) : value;
}

const TYPED_ARRAYS: Record<string, (buffer: ArrayBuffer) => ArrayLike<number>> = {
  float32: b => new Float32Array(b),
  float64: b => new Float64Array(b),
  int8: b => new Int8Array(b),
  uint8: b => new Uint8Array(b),
  int16: b => new Int16Array(b),
  uint16: b => new Uint16Array(b),
  int32: b => new Int32Array(b),
  uint32: b => new Uint32Array(b),
  int64: b => Float64Array.from(new BigInt64Array(b), Number),
  uint64: b => Float64Array.from(new BigUint64Array(b), Number)
};

function decodeBuffer(base64: string, dtype: string): ArrayLike<number> {
  const make = TYPED_ARRAYS[dtype];
  if (!make) {
    throw new Error(`the tessellation has an array of an unknown type ${dtype}`);
  }
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    bytes[i] = text.charCodeAt(i);
  }
  return make(bytes.buffer);
}

function prefixSums(counts: number[]): number[] {
  const starts = [0];
  for (const count of counts) {
    starts.push(starts[starts.length - 1] + count);
  }
  return starts;
}

/** The run (face or edge) whose [start, next start) holds `item`, by binary search. */
function findRun(starts: number[], item: number): number {
  let low = 0;
  let high = starts.length - 2;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (item < starts[mid]) {
      high = mid - 1;
    } else if (item >= starts[mid + 1]) {
      low = mid + 1;
    } else {
      return mid;
    }
  }
  return -1;
}
