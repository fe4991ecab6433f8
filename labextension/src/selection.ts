/**
 * Faces and edges named by their geometry: the descriptors of the tessellation route (one per
 * face and edge of each meshed part), the references the agent's tools take, and the matching
 * of one against the other, so a selection survives a new revision of the model whenever the
 * element it names is still there (a filleted edge is gone: its highlight goes with it).
 */

type Json = Record<string, any>;

export type ElementKind = 'face' | 'edge';

/** `{kind, body, type, center, normal | axis | direction, radius, ...}` (the route's form). */
export interface IDescriptor {
  kind?: ElementKind;
  body?: string;
  type?: string;
  center?: number[];
  normal?: number[];
  axis?: number[];
  direction?: number[];
  radius?: number;
  tol?: number;
  [key: string]: unknown;
}

/** The route's `references`: per part id, a descriptor per face index and per edge index. */
export type References = Record<string, { faces: IDescriptor[]; edges: IDescriptor[] }>;

/** One face or edge of one meshed part, by its index in that part's mesh. */
export interface IElement {
  part: string;
  kind: ElementKind;
  index: number;
}

/** The agent's selection: descriptors and the kind of element they name. */
export interface IAgentSelection {
  kind: ElementKind;
  body: string | null;
  refs: IDescriptor[];
}

/** The most elements sent to the agent with one chat request (the server's bound). */
export const MAX_SELECTION = 100;

/**
 * The keys `get_current_selection` accepts (the tools' `Descriptor` forbids others): what the
 * user picked is sent back exactly as the route described it, minus anything else.
 */
const DESCRIPTOR_KEYS = ['kind', 'body', 'type', 'center', 'normal', 'axis', 'direction', 'radius'];

export function elementKey(element: IElement): string {
  return `${element.part}\u0000${element.kind}\u0000${element.index}`;
}

export function descriptorOf(references: References, element: IElement): IDescriptor | null {
  const part = references[element.part];
  const list = element.kind === 'face' ? part?.faces : part?.edges;
  return list?.[element.index] ?? null;
}

/** What is sent as `forwardedProps.selection` for one picked element. */
export function selectionPayload(descriptor: IDescriptor, kind: ElementKind): IDescriptor {
  const payload: IDescriptor = { kind };
  for (const key of DESCRIPTOR_KEYS) {
    if (key !== 'kind' && descriptor[key] !== undefined && descriptor[key] !== null) {
      payload[key] = descriptor[key];
    }
  }
  return payload;
}

/** Whether `ref` (a tool's reference) names `element` (the route's descriptor of it). */
export function sameElement(ref: IDescriptor, element: IDescriptor): boolean {
  if (!Array.isArray(ref.center) || !Array.isArray(element.center)) {
    return false;
  }
  if (ref.type && element.type && ref.type.toUpperCase() !== element.type.toUpperCase()) {
    return false;
  }
  // The tools' default tolerance (mm); descriptors are rounded by the tools and the route.
  const tol = Math.max(typeof ref.tol === 'number' ? ref.tol : 0.01, 0.01);
  if (distance(ref.center, element.center) > tol) {
    return false;
  }
  if (!directionsAgree(ref.normal, element.normal, false)) {
    return false;
  }
  for (const key of ['axis', 'direction'] as const) {
    if (!directionsAgree(ref[key], element[key], true)) {
      return false;
    }
  }
  if (typeof ref.radius === 'number' && typeof element.radius === 'number') {
    return Math.abs(ref.radius - element.radius) <= tol;
  }
  return true;
}

/** The elements of the model that the descriptors name (those naming nothing are skipped). */
export function resolve(
  refs: IDescriptor[],
  kind: ElementKind,
  references: References,
  body: string | null = null
): IElement[] {
  const found: IElement[] = [];
  const seen = new Set<string>();
  for (const [part, lists] of Object.entries(references)) {
    const list = kind === 'face' ? lists.faces : lists.edges;
    list.forEach((element, index) => {
      if (body && element.body && element.body !== body) {
        return;
      }
      const sameBody = (ref: IDescriptor) =>
        !ref.body || !element.body || ref.body === element.body;
      const named = refs.some(ref => sameBody(ref) && sameElement(ref, element));
      const item = { part, kind, index };
      if (named && !seen.has(elementKey(item))) {
        seen.add(elementKey(item));
        found.push(item);
      }
    });
  }
  return found;
}

/**
 * The elements a tool call looked at or acted on, if any: the `ref`s of what `find_faces` /
 * `find_edges` returned, or the `face` / `faces` / `edges` references of its arguments (as
 * `widgets/viewer.py`'s `selection_of_call` reads them for the notebook). References given as
 * CadQuery selector strings cannot be resolved here and are left out: a highlight is a hint.
 */
export function selectionOfCall(
  name: string,
  args: string,
  result: string
): IAgentSelection | null {
  if (name === 'find_faces' || name === 'find_edges') {
    const found = parse(result);
    if (!found || typeof found !== 'object') {
      return null;
    }
    const items: Json[] = Array.isArray(found.items) ? found.items : [];
    const refs = items
      .map(item => item?.ref)
      .filter((ref): ref is IDescriptor => isDescriptor(ref));
    if (!refs.length) {
      return null;
    }
    const kind: ElementKind = name === 'find_faces' ? 'face' : 'edge';
    return { kind, body: typeof found.body === 'string' ? found.body : null, refs };
  }
  const parsed = parse(args);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return null;
  }
  const body = typeof parsed.body === 'string' ? parsed.body : null;
  if (Array.isArray(parsed.edges) && parsed.edges.length) {
    const refs = parsed.edges.filter(isDescriptor);
    return refs.length ? { kind: 'edge', body, refs } : null;
  }
  let faces: unknown[] | null = Array.isArray(parsed.faces) ? parsed.faces : null;
  if (faces === null && parsed.face !== undefined && parsed.face !== null) {
    faces = [parsed.face];
  }
  const refs = (faces ?? []).filter(isDescriptor);
  return refs.length ? { kind: 'face', body, refs } : null;
}

function isDescriptor(value: unknown): value is IDescriptor {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray((value as IDescriptor).center)
  );
}

function parse(text: string): any {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return null;
  }
}

function distance(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < 3; i++) {
    sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  }
  return Math.sqrt(sum);
}

/** Directions agree when both are given and parallel (or anti-parallel, for `either`). */
function directionsAgree(a: unknown, b: unknown, either: boolean): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) {
    return true;
  }
  const la = Math.hypot(a[0], a[1], a[2]);
  const lb = Math.hypot(b[0], b[1], b[2]);
  if (!la || !lb) {
    return true;
  }
  const cos = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (la * lb);
  return (either ? Math.abs(cos) : cos) > 0.999;
}
