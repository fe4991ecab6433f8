/**
 * The side panel's chat transport: the commands of the shared chat UI (chat.js) turned into
 * calls of the server extension's HTTP routes, and the answers (SSE frames, hydrated pages,
 * session lists) turned into the messages the UI renders. Everything the panel shows comes
 * from the session's durable stream, so a reload resumes from the last offset.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { UUID } from '@lumino/coreutils';

import type { ChatTransport } from '../../solidtype_jupyter/widgets/static/chat.js';

type Json = Record<string, any>;
type Listener = (message: Json, buffers?: ArrayBuffer[]) => void;

/** Where the panel is: which kind of chat a new session is, and on which document. */
export interface IChatPlace {
  context(): 'editor' | 'dashboard';
  documentPath(): string | null;
}

const ACTIVE_SESSION_KEY = 'solidtype:active-session';
/**
 * ServerConnection appends a timestamp to the query of `no-store` requests; our routes
 * validate their query strictly, and their answers are `no-cache` anyway.
 */
export const NO_CACHE_BUSTER: RequestCache = 'no-cache';
const TERMINAL = new Set(['RUN_FINISHED', 'RUN_ERROR']);

export class ServerChatTransport implements ChatTransport {
  constructor(place: IChatPlace, settings?: ServerConnection.ISettings) {
    this._place = place;
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  /** The session on screen (``null`` before the first ``ready``). */
  get session(): string | null {
    return this._session;
  }

  /** Called with every event the panel applies (the extension opens documents from it). */
  onEvent: ((event: Json) => void) | null = null;

  /** Called when a session is put on screen (the 3D view follows its document). */
  onOpen: ((session: string) => void) | null = null;

  /**
   * What the user picked in the 3D view, sent as `forwardedProps.selection` with each chat
   * request (the agent's `get_current_selection`); null or empty: nothing is sent.
   */
  selection: (() => Json[]) | null = null;

  /** Pictures of the model for the chat's own viewer (off when a 3D view shows it). */
  pictures = true;

  send(command: Json): void {
    this._handle(command).catch(error => {
      this._emit({ kind: 'error', message: messageOf(error), retry: false });
    });
  }

  subscribe(listener: Listener): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  dispose(): void {
    this._follow?.abort();
    this._listeners.clear();
  }

  // --- commands -----------------------------------------------------------------------

  private async _handle(command: Json): Promise<void> {
    switch (command.cmd) {
      case 'ready':
        await this._open(await this._initialSession(), command.view);
        break;
      case 'more':
        await this._page(command.view, command.before);
        break;
      case 'send':
        await this._run({ messages: [userMessage(command.text)] });
        break;
      case 'approve':
      case 'reject':
        await this._decide(command);
        break;
      case 'stop':
        if (this._session) {
          await this._call('POST', `ai/session/${this._session}/cancel`, undefined, [409]);
        }
        break;
      case 'retry':
        if (this._lastText) {
          await this._run({ messages: [userMessage(this._lastText)] });
        }
        break;
      case 'new':
        await this._open(await this._create(), undefined);
        break;
      case 'switch':
        await this._open(String(command.session), undefined);
        break;
      case 'archive':
        await this._archive(String(command.session));
        break;
      default:
        break;
    }
  }

  private async _initialSession(): Promise<string> {
    const sessions = await this._sessions();
    const stored = window.localStorage.getItem(ACTIVE_SESSION_KEY);
    const active = sessions.filter(s => s.status !== 'archived');
    const pick = active.find(s => s.id === stored) ?? active[0];
    return pick ? String(pick.id) : this._create();
  }

  private async _create(): Promise<string> {
    const context = this._place.context();
    const body: Json = { context };
    const path = this._place.documentPath();
    if (context === 'editor' && path) {
      body.documentPath = path;
    }
    const session = await this._call('POST', 'ai/sessions', body);
    return String(session.id);
  }

  /** Show a session: its newest page, then follow it live while a run goes on. */
  private async _open(session: string, view: string | undefined): Promise<void> {
    this._follow?.abort();
    this._session = session;
    window.localStorage.setItem(ACTIVE_SESSION_KEY, session);
    const page = await this._call('GET', `ai/session/${session}`, undefined, [], {
      view: 'transcript'
    });
    this._pending = page.interrupts ?? [];
    this._decisions.clear();
    this._lastText = lastUserText(page.messages ?? []);
    this._emit({
      kind: 'reset',
      view,
      session,
      messages: page.messages ?? [],
      first: page.first,
      total: page.total,
      offset: page.offset,
      interrupts: this._pending,
      running: Boolean(page.activeRun),
      model: this._model,
      demo: this._demo
    });
    await this._publishSessions();
    this.onOpen?.(session);
    void this._refreshView(session);
    if (page.activeRun) {
      // Reloaded (or opened elsewhere) during an answer: go on from the last offset.
      await this._stream(
        this._request('GET', `ai/session/${session}`, undefined, {
          offset: page.offset,
          live: 'sse'
        }),
        session
      );
    }
  }

  private async _page(view: string, before: number): Promise<void> {
    if (!this._session) {
      return;
    }
    const page = await this._call('GET', `ai/session/${this._session}`, undefined, [], {
      view: 'transcript',
      before: String(before)
    });
    this._emit({ kind: 'history', view, messages: page.messages ?? [], first: page.first });
  }

  private async _decide(command: Json): Promise<void> {
    const payload: Json = { approved: command.cmd === 'approve' };
    if (payload.approved && command.editedArgs) {
      payload.editedArgs = command.editedArgs;
    }
    this._decisions.set(String(command.interruptId), payload);
    // The run resumes once every waiting call has an answer (as in the notebook).
    if (this._pending.some(i => !this._decisions.has(String(i.id)))) {
      return;
    }
    const resume = this._pending.map(i => ({
      interruptId: i.id,
      status: 'resolved',
      payload: this._decisions.get(String(i.id))
    }));
    await this._run({ resume, parentRunId: this._lastRunId ?? undefined });
  }

  private async _run(input: Json): Promise<void> {
    const session = this._session;
    if (!session) {
      throw new Error('no chat session is open');
    }
    const text = input.messages?.[0]?.content;
    if (text) {
      this._lastText = text;
    }
    const selection = this.selection?.() ?? [];
    const body = {
      threadId: session,
      runId: `run_${randomId()}`,
      state: {},
      messages: [],
      tools: [],
      context: [],
      forwardedProps: selection.length ? { selection } : {},
      ...input
    };
    // The server stored the user's message before it answers: the list can say so at once
    // (a kernel agent may take seconds to start before the first event).
    await this._stream(this._request('POST', 'ai/chat', body), session, () => {
      void this._publishSessions();
    });
    await this._publishSessions();
  }

  private async _archive(session: string): Promise<void> {
    await this._call('POST', `ai/sessions/${session}/archive`);
    if (session === this._session) {
      window.localStorage.removeItem(ACTIVE_SESSION_KEY);
      await this._open(await this._initialSession(), undefined);
    } else {
      await this._publishSessions();
    }
  }

  // --- server calls -------------------------------------------------------------------

  private _url(path: string, query?: Record<string, string>): string {
    const url = URLExt.join(this._settings.baseUrl, 'solidtype/api', path);
    return query ? url + URLExt.objectToQueryString(query) : url;
  }

  private _request(
    method: string,
    path: string,
    body?: Json,
    query?: Record<string, string>
  ): Promise<Response> {
    this._follow?.abort();
    const controller = new AbortController();
    this._follow = controller;
    return ServerConnection.makeRequest(
      this._url(path, query),
      {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: NO_CACHE_BUSTER
      },
      this._settings
    );
  }

  private async _call(
    method: string,
    path: string,
    body?: Json,
    accepted: number[] = [],
    query?: Record<string, string>
  ): Promise<Json> {
    const response = await ServerConnection.makeRequest(
      this._url(path, query),
      {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: NO_CACHE_BUSTER
      },
      this._settings
    );
    const text = await response.text();
    const data = text ? JSON.parse(text) : {};
    if (!response.ok && !accepted.includes(response.status)) {
      throw new Error(data.message || `${method} ${path}: HTTP ${response.status}`);
    }
    return data;
  }

  private async _sessions(): Promise<Json[]> {
    const list = await this._call('GET', 'ai/sessions', undefined, [], { limit: '100' });
    return list.sessions ?? [];
  }

  private async _publishSessions(): Promise<void> {
    const sessions = (await this._sessions()).map(s => ({
      id: s.id,
      title: s.title,
      messageCount: s.messageCount,
      status: s.status,
      context: s.context
    }));
    this._emit({ kind: 'sessions', sessions, active: this._session });
  }

  /**
   * Read an SSE answer (``id: <offset>`` + one ``data:`` line per event) and hand its events
   * to the panel. Written by hand because EventSource can neither POST a body nor send the
   * Authorization/XSRF headers that ServerConnection adds; the framing is two line types.
   */
  private async _stream(
    request: Promise<Response>,
    session: string,
    opened?: () => void
  ): Promise<void> {
    let response: Response;
    try {
      response = await request;
    } catch (error) {
      if (isAbort(error)) {
        return;
      }
      throw error;
    }
    if (!response.ok) {
      const text = await response.text();
      let message = `HTTP ${response.status}`;
      try {
        message = JSON.parse(text).message || message;
      } catch {
        // not JSON: keep the status
      }
      throw new Error(message);
    }
    opened?.();
    if (!response.body) {
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        buffer += decoder.decode(value, { stream: true });
        const frames = buffer.split('\n\n');
        buffer = frames.pop() ?? '';
        const events = frames.map(parseFrame).filter((e): e is Json => e !== null);
        if (events.length) {
          let changed = false;
          for (const item of events) {
            this._track(item.e);
            changed ||= item.e.type === 'TOOL_CALL_RESULT' || TERMINAL.has(item.e.type);
          }
          this._emit({ kind: 'events', session, events });
          if (changed) {
            void this._refreshView(session);
          }
        }
      }
    } catch (error) {
      if (!isAbort(error)) {
        throw error;
      }
    }
  }

  /** Keep what the next commands need: waiting approvals and the interrupted run. */
  private _track(event: Json): void {
    if (event.type === 'RUN_STARTED') {
      this._pending = [];
      this._decisions.clear();
    } else if (TERMINAL.has(event.type)) {
      this._lastRunId = event.runId ?? this._lastRunId;
      this._pending = event.outcome?.interrupts ?? [];
    }
    this.onEvent?.(event);
  }

  private _emit(message: Json, buffers?: ArrayBuffer[]): void {
    for (const listener of this._listeners) {
      listener(message, buffers);
    }
  }

  /** The picture of the session's document (editor sessions), after each change. */
  private async _refreshView(session: string): Promise<void> {
    if (!this.pictures) {
      return;
    }
    const response = await ServerConnection.makeRequest(
      this._url('documents/render', { session, width: '640', height: '480' }),
      { cache: NO_CACHE_BUSTER },
      this._settings
    );
    if (session !== this._session) {
      return;
    }
    if (!response.ok) {
      // 404: a chat without a document; otherwise the server says why (e.g. no solid yet).
      let caption = 'No CAD document in this chat';
      if (response.status !== 404) {
        try {
          caption = (await response.json()).message || caption;
        } catch {
          // not JSON: keep the generic caption
        }
      }
      this._emit({ kind: 'view', caption });
      return;
    }
    this._viewRevision += 1;
    const picture = await response.arrayBuffer();
    this._emit({ kind: 'view', revision: this._viewRevision, caption: 'The model' }, [picture]);
  }

  /** The model the server uses, shown in the panel's title (from the health route). */
  async loadModel(): Promise<void> {
    try {
      const health = await this._call('GET', 'health');
      const model = health.model;
      this._model = model?.configured ? `${model.provider}:${model.name}` : 'no model configured';
      // A recorded demo: the panel says so, with how to connect a model, and offers its prompts.
      this._demo = model?.demo
        ? { notice: model.demo_notice ?? '', prompts: model.demo_prompts ?? [] }
        : null;
    } catch {
      this._model = undefined;
      this._demo = null;
    }
  }

  private _place: IChatPlace;
  private _settings: ServerConnection.ISettings;
  private _listeners = new Set<Listener>();
  private _session: string | null = null;
  private _pending: Json[] = [];
  private _decisions = new Map<string, Json>();
  private _lastRunId: string | null = null;
  private _lastText: string | null = null;
  private _follow: AbortController | null = null;
  private _model: string | undefined;
  private _demo: Json | null = null;
  private _viewRevision = 0;
}

function parseFrame(frame: string): Json | null {
  let offset: string | undefined;
  let data = '';
  for (const line of frame.split('\n')) {
    if (line.startsWith('id:')) {
      offset = line.slice(3).trim();
    } else if (line.startsWith('data:')) {
      data += line.slice(5).trim();
    }
  }
  return data ? { o: offset, e: JSON.parse(data) } : null;
}

function userMessage(text: string): Json {
  return { id: `user_${randomId()}`, role: 'user', content: text };
}

function lastUserText(messages: Json[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user' && messages[i].content) {
      return messages[i].content;
    }
  }
  return null;
}

function randomId(): string {
  return UUID.uuid4().replace(/-/g, '');
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
