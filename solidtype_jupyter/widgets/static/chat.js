// SolidType chat panel: one plain ES module (no build step, no network at run time).
//
// Two hosts mount it:
// - the anywidget in a notebook (`export default {render}` below; transport = the widget
//   model's custom messages to and from the kernel);
// - the JupyterLab side panel (issue 9), with a transport over the server's HTTP/SSE routes.
//
// mountChat(element, transport, options) -> {destroy()}
//
// transport = {send(command), subscribe(listener) -> unsubscribe}
//
// Commands the panel sends (plain JSON objects):
//   {cmd: "ready", view}                       a view wants its first history page
//   {cmd: "more", view, before}                the page of messages before index `before`
//   {cmd: "send", text}
//   {cmd: "approve", interruptId, toolCallId, editedArgs?}
//   {cmd: "reject", interruptId, toolCallId}
//   {cmd: "stop"} | {cmd: "retry"} | {cmd: "new"}
//   {cmd: "switch", session} | {cmd: "archive", session}
//
// Messages the panel renders (`kind`):
//   reset     {view?, session, messages, first, total, offset, interrupts, running, model}
//             replaces the conversation (first page, or after a switch)
//   history   {view, messages, first}      an older page, prepended
//   events    {session, events: [{o, e}]}  AG-UI events in stream order (o = offset string)
//   sessions  {sessions: [{id, title, messageCount, status}], active}
//   view      {png (base64), revision, caption}   the viewer picture
//   thumbnail {toolCallId, png}            a picture for one tool card
//   error     {message, retry}             a failed command, shown inline
//
// Rendering is incremental: each event appends to or updates the DOM of its own message or
// card; the history is never re-rendered. Text is rendered by a small Markdown subset that
// builds DOM nodes (never innerHTML), so model output cannot inject markup.

const PREFIX = "st-chat";

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function cls(name) {
  return `${PREFIX}-${name}`;
}

// ---------------------------------------------------------------- Markdown (safe subset)

const SAFE_URL = /^(https?:|mailto:)/i;

/** Inline Markdown: `code`, **strong**, *em* / _em_, [text](url); everything else is text. */
export function renderInline(text) {
  const frag = document.createDocumentFragment();
  const pattern = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) frag.append(text.slice(last, match.index));
    if (match[1]) frag.append(h("code", { class: cls("code-inline") }, match[2].trim()));
    else if (match[3] || match[4]) frag.append(h("strong", null, renderInline(match[3] || match[4])));
    else if (match[5] || match[6]) frag.append(h("em", null, renderInline(match[5] || match[6])));
    else if (match[7]) {
      const url = match[8];
      if (SAFE_URL.test(url)) {
        frag.append(h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, match[7]));
      } else {
        frag.append(match[0]);
      }
    }
    last = pattern.lastIndex;
  }
  if (last < text.length) frag.append(text.slice(last));
  return frag;
}

const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function tableCells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim());
}

/** Block Markdown: fenced code, headings, tables, bullet and numbered lists, paragraphs. */
export function renderMarkdown(source) {
  const root = document.createDocumentFragment();
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) {
      const p = h("p");
      paragraph.forEach((line, n) => {
        if (n) p.append(h("br"));
        p.append(renderInline(line));
      });
      root.append(p);
      paragraph = [];
    }
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w+-]*)\s*$/);
    if (fence) {
      flush();
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i += 1; // the closing fence (or the end of a message still streaming)
      const text = body.join("\n");
      const code = h("code", fence[2] ? { "data-lang": fence[2] } : null, text);
      const bar = h("div", { class: cls("code-bar") }, h("span", null, fence[2] || "code"), copyButton(text));
      root.append(h("div", { class: cls("code-wrap") }, bar, h("pre", { class: cls("code-block") }, code)));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      flush();
      root.append(h(`h${Math.min(heading[1].length + 2, 6)}`, null, renderInline(heading[2])));
      i += 1;
      continue;
    }
    // A GitHub-style table: a header row, a |---|---| line, then rows (parameters, figures).
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      flush();
      const head = tableCells(line);
      const rows = [];
      i += 2;
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(tableCells(lines[i++]));
      const table = h(
        "table",
        { class: cls("md-table") },
        h("thead", null, h("tr", null, ...head.map((cell) => h("th", null, renderInline(cell))))),
        h("tbody", null, ...rows.map((row) => h("tr", null, ...row.map((cell) => h("td", null, renderInline(cell)))))),
      );
      root.append(h("div", { class: cls("md-table-wrap") }, table));
      continue;
    }
    const bullet = /^\s*[-*+]\s+(.*)$/;
    const numbered = /^\s*\d+[.)]\s+(.*)$/;
    if (bullet.test(line) || numbered.test(line)) {
      flush();
      const ordered = numbered.test(line) && !bullet.test(line);
      const itemPattern = ordered ? numbered : bullet;
      const list = h(ordered ? "ol" : "ul");
      while (i < lines.length && itemPattern.test(lines[i])) {
        list.append(h("li", null, renderInline(lines[i].match(itemPattern)[1])));
        i += 1;
      }
      root.append(list);
      continue;
    }
    if (!line.trim()) flush();
    else paragraph.push(line);
    i += 1;
  }
  flush();
  return root;
}

/** A button that copies `text` (the Clipboard API, else a hidden selection). */
function copyButton(text) {
  const button = h("button", { class: cls("copy"), title: "Copy", "aria-label": "Copy the code" }, "Copy");
  const done = (ok) => {
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
  button.addEventListener("click", () => {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
      return;
    }
    const area = h("textarea", { style: "position:fixed;opacity:0" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    done(ok);
  });
  return button;
}

// ---------------------------------------------------------------- small formatters

function prettyJson(text) {
  if (text === undefined || text === null || text === "") return "{}";
  try {
    return JSON.stringify(typeof text === "string" ? JSON.parse(text) : text, null, 2);
  } catch {
    return String(text); // still streaming, or not JSON
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The words of an error, whatever its shape: a string, {error: "..."}, {error: {message,
 * code}} (the tool registry's), {message}, with `problems` appended. Never "[object Object]". */
export function errorText(value, fallback = "Error") {
  if (value === undefined || value === null || value === "") return String(fallback);
  if (typeof value !== "object") return String(value);
  const inner = value.error !== undefined && value.error !== null ? value.error : value;
  let text;
  if (typeof inner === "string") text = inner;
  else if (inner && typeof inner === "object" && typeof inner.message === "string" && inner.message) {
    text = inner.code ? `${inner.message} (${inner.code})` : inner.message;
  } else if (typeof value.message === "string" && value.message) text = value.message;
  else text = JSON.stringify(inner);
  if (Array.isArray(value.problems) && value.problems.length) text += `: ${value.problems.join("; ")}`;
  return text;
}

function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

/** The figures of a tool result: scalar fields, and one level of nested scalars. */
function resultFigures(value) {
  const rows = [];
  if (!value || typeof value !== "object" || Array.isArray(value)) return rows;
  for (const [key, item] of Object.entries(value)) {
    if (item === null || ["string", "number", "boolean"].includes(typeof item)) {
      rows.push([key, item === null ? "null" : formatNumber(item)]);
    } else if (Array.isArray(item) && item.every((x) => typeof x === "number") && item.length <= 6) {
      rows.push([key, item.map(formatNumber).join(" × ")]);
    } else if (typeof item === "object" && !Array.isArray(item)) {
      for (const [sub, subItem] of Object.entries(item)) {
        if (["string", "number", "boolean"].includes(typeof subItem)) {
          rows.push([`${key}.${sub}`, formatNumber(subItem)]);
        }
      }
    }
    if (rows.length >= 24) break;
  }
  return rows;
}

/** A result field as a row label: the geometry's fields by their name, with their unit. */
function figureLabel(key) {
  const name = key.startsWith("geometry.") ? key.slice("geometry.".length) : key;
  const unit = { volume: "mm³", area: "mm²" }[name];
  return unit ? `${name} (${unit})` : name.replace(/_/g, " ");
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function millimetres(value) {
  return typeof value === "number" ? formatNumber(Math.round(value * 10) / 10) : String(value);
}

/**
 * A CAD result as a person reads it: what changed (the feature, the sketch, the parameter),
 * then the part's size, volume with its unit, faces and validity, and how the volume moved
 * since the previous result (`previous`: that result's geometry). Hashes stay in the details.
 */
function cadHeadline(value, args, previous) {
  const geometry = value.geometry;
  if (!geometry || typeof geometry !== "object") return null;
  const parts = [];
  const feature = value.feature;
  if (feature && typeof feature === "object" && feature.id) parts.push(String(feature.id));
  if (value.sketch_id) {
    const entities = value.entities || 0;
    let sketch = `${value.sketch_id}: ${entities} ${entities === 1 ? "entity" : "entities"}`;
    const closed = Array.isArray(value.closed_profiles) ? value.closed_profiles.length : 0;
    if (closed) sketch += `, ${plural(closed, "closed profile")}`;
    if (value.open_chain) sketch += ", open";
    parts.push(sketch);
  }
  if (value.deleted) parts.push(`deleted ${value.deleted}`);
  if (value.parameters && args && typeof args === "object" && "name" in args && "value" in args) {
    parts.push(`${args.name} = ${formatNumber(args.value)}`);
  }
  if (!geometry.solids) {
    parts.push("no solid yet");
    return parts.join(" · ");
  }
  const size = geometry.bbox && geometry.bbox.size;
  if (Array.isArray(size)) parts.push(`${size.map(millimetres).join(" × ")} mm`);
  if (typeof geometry.volume === "number") {
    let volume = `volume ${millimetres(geometry.volume)} mm³`;
    const before = previous && previous.solids ? previous.volume : undefined;
    if (typeof before === "number" && Math.abs(geometry.volume - before) >= 0.05) {
      const delta = geometry.volume - before;
      volume += ` (${delta > 0 ? "+" : "−"}${millimetres(Math.abs(delta))})`;
    }
    parts.push(volume);
  }
  if (typeof geometry.faces === "number") parts.push(plural(geometry.faces, "face"));
  if (geometry.valid === false) parts.push("⚠ invalid solid");
  else if (geometry.valid === true) parts.push("valid");
  return parts.join(" · ");
}

/** The figures worth a glance (volume, faces, validity...), for a card's one-line summary. */
function summaryLine(rows) {
  const wanted = ["geometry.volume", "volume", "geometry.faces", "faces", "geometry.valid", "valid", "count"];
  const picked = [];
  for (const key of wanted) {
    const row = rows.find(([name]) => name === key);
    if (row && !picked.some(([name]) => name.split(".").pop() === key.split(".").pop())) picked.push(row);
  }
  // Hashes (revisions, ids) tell a reader nothing: they stay in the folded details.
  const readable = rows.filter(([key, value]) => key !== "revision" && !/^[0-9a-f]{12,}$/.test(String(value)));
  const shown = (picked.length ? picked : readable).slice(0, 4);
  return shown.map(([key, value]) => `${key.split(".").pop()} ${value}`).join(" · ");
}

const SHORTCUTS = "Enter: send · Shift+Enter: new line · Esc: stop the answer";

const PLACEHOLDERS = {
  editor: "Describe what you want to create or modify…",
  dashboard: "Ask about projects, documents, workspaces…",
};

const EXAMPLES = {
  editor: [
    "Make a 60 × 40 × 8 mm plate with four 5 mm holes near the corners",
    "Round the vertical edges with a 3 mm fillet",
    "What are this part's parameters and its volume?",
  ],
  dashboard: ["Which projects and documents do I have?", "Create a document named bracket", "Open the latest document"],
};

/** The model's label as shown: a scripted conversation by its file's name, not its path. */
function shortModel(label) {
  const text = String(label);
  const colon = text.indexOf(":");
  if (colon < 0 || !/[\\/]/.test(text)) return text;
  const file = text.slice(colon + 1).split(/[\\/]/).pop().replace(/\.jsonl?$/, "");
  return `${text.slice(0, colon)}: ${file}`;
}

function toolTitle(name) {
  return String(name || "tool").replace(/_/g, " ");
}

// ---------------------------------------------------------------- the panel

class ChatPanel {
  constructor(element, transport, options = {}) {
    this.transport = transport;
    this.options = options;
    this.view = `v${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    this.offset = null; // last applied stream offset (zero-padded strings compare in order)
    this.waitingReset = true;
    this.queued = []; // events that arrive before this view's first page
    this.first = 0; // index of the first message shown
    this.messages = new Map(); // messageId -> {el, body, text, role, pending}
    this.cards = new Map(); // toolCallId -> card state
    this.running = false;
    this.lastUserText = null;
    this.sessions = [];
    this.activeSession = null;
    this.build(element);
    this.unsubscribe = transport.subscribe((message, buffers) => this.receive(message, buffers));
    this.transport.send({ cmd: "ready", view: this.view });
  }

  // ------------------------------------------------------------ layout

  build(element) {
    this.root = h("div", { class: PREFIX, "data-view": this.view });
    this.sessionToggle = h(
      "button",
      {
        class: cls("icon-button"),
        title: "Sessions",
        "aria-label": "Toggle sessions",
        onclick: () => this.root.classList.toggle(cls("show-sessions")),
      },
      "☰",
    );
    this.titleEl = h("span", { class: cls("title") }, this.options.title || "SolidType AI");
    this.modelEl = h("span", { class: cls("model") });
    this.modelEl.hidden = true;
    this.statusEl = h("div", { class: `${cls("status")} ${cls("status--idle")}` });
    this.statusDot = h("span", { class: cls("status-dot") });
    this.statusText = h("span", { class: cls("status-text") }, "Ready");
    this.progress = h("div", { class: cls("progress") }, h("div", { class: cls("progress-bar") }));
    this.statusEl.append(this.statusDot, h("div", { class: cls("status-info") }, this.statusText, this.progress));
    this.stopButton = h(
      "button",
      { class: `${cls("button")} ${cls("stop")}`, title: "Stop the agent", onclick: () => this.stop() },
      "■ Stop",
    );
    this.stopButton.hidden = true;
    const header = h(
      "div",
      { class: cls("header") },
      this.sessionToggle,
      this.titleEl,
      this.modelEl,
      h("span", { class: cls("header-spacer") }),
    );
    // The status has a line of its own above the input: in the header it squeezed the title
    // out of a narrow side panel.
    const statusbar = h("div", { class: cls("statusbar") }, this.statusEl, this.stopButton);

    this.sessionList = h("div", { class: cls("session-items") });
    const sessionsPane = h(
      "div",
      { class: cls("sessions") },
      h(
        "div",
        { class: cls("sessions-header") },
        h("span", null, "Sessions"),
        h(
          "button",
          {
            class: cls("icon-button"),
            title: "New chat",
            "aria-label": "New chat",
            onclick: () => this.command({ cmd: "new" }),
          },
          "+",
        ),
      ),
      this.sessionList,
    );

    this.moreButton = h(
      "button",
      { class: `${cls("button")} ${cls("more")}`, onclick: () => this.loadEarlier() },
      "Load earlier messages",
    );
    this.moreButton.hidden = true;
    this.log = h("div", { class: cls("log"), role: "log", "aria-live": "polite" });
    this.emptyEl = h("div", { class: cls("empty") });
    this.scroller = h("div", { class: cls("messages") }, this.moreButton, this.log, this.emptyEl);
    this.latestButton = h(
      "button",
      {
        class: cls("latest"),
        title: "Scroll to the latest message",
        "aria-label": "Scroll to the latest message",
        onclick: () => this.scrollToEnd(true),
      },
      "↓",
    );
    this.latestButton.hidden = true;
    // Shown while the log has nothing in it: any change of the log's children decides.
    if (typeof MutationObserver !== "undefined") {
      this.emptyObserver = new MutationObserver(() => this.updateEmpty());
      this.emptyObserver.observe(this.log, { childList: true });
    }
    // Follow the end while the reader is there: content grows after events are applied
    // (markdown rendered per frame, pictures decoded), so watch sizes, not events.
    this.stick = true;
    this.lastScrollTop = 0;
    this.scroller.addEventListener("scroll", () => {
      // Only the reader scrolling up unsticks; layout changes (a card shrinking, the
      // browser clamping) must not.
      const top = this.scroller.scrollTop;
      if (this.nearEnd()) this.stick = true;
      else if (top < this.lastScrollTop - 2) this.stick = false;
      this.lastScrollTop = top;
      this.latestButton.hidden = this.nearEnd();
    });
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObserver = new ResizeObserver(() => {
        if (this.stick) this.scroller.scrollTop = this.scroller.scrollHeight;
      });
      this.resizeObserver.observe(this.log);
    }

    this.input = h("textarea", {
      class: cls("input"),
      rows: 2,
      placeholder: this.options.placeholder || "Describe what you want to create or modify…",
      "aria-label": "Message",
      title: SHORTCUTS,
      // JupyterLab's shortcuts (Shift+Enter runs the cell) must not fire while typing here.
      "data-lm-suppress-shortcuts": "true",
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.running) {
        event.preventDefault();
        this.stop();
        return;
      }
      if (event.key !== "Enter" || event.isComposing) return;
      // Hosts may claim Enter keys (JupyterLab's notebook does): handle both here.
      event.preventDefault();
      event.stopPropagation();
      if (event.shiftKey) {
        const { selectionStart, selectionEnd } = this.input;
        this.input.setRangeText("\n", selectionStart, selectionEnd, "end");
      } else {
        this.submit();
      }
    });
    this.sendButton = h(
      "button",
      { class: `${cls("button")} ${cls("send")}`, title: SHORTCUTS, onclick: () => this.submit() },
      "Send",
    );
    const composer = h("div", { class: cls("composer") }, this.input, this.sendButton);
    const conversation = h("div", { class: cls("conversation") }, this.scroller, this.latestButton);
    // A recorded demo says so above the conversation (`showDemo`).
    this.demoEl = h("div", { class: cls("demo"), role: "note" });
    this.demoEl.hidden = true;
    const main = h("div", { class: cls("main") }, this.demoEl, conversation, statusbar, composer);

    this.viewerImage = h("img", { class: cls("viewer-image"), alt: "The CAD model" });
    this.viewerImage.hidden = true;
    this.viewerCaption = h("div", { class: cls("viewer-caption") }, "No model yet");
    this.viewer = h("div", { class: cls("viewer"), "data-empty": "" }, this.viewerImage, this.viewerCaption);
    this.viewer.hidden = this.options.viewer === false;

    this.root.append(header, h("div", { class: cls("body") }, sessionsPane, main, this.viewer));
    element.append(this.root);
    this.updateEmpty();
  }

  /** What to try, while the conversation is empty (examples fill the input, not send). */
  updateEmpty() {
    const empty = this.log.childElementCount === 0;
    this.emptyEl.hidden = !empty;
    if (!empty || this.emptyEl.dataset.context === this.context()) return;
    const context = this.context();
    this.emptyEl.dataset.context = context;
    const prompts = this.demo && Array.isArray(this.demo.prompts) ? this.demo.prompts : [];
    const examples = prompts.length ? prompts : EXAMPLES[context] || EXAMPLES.editor;
    this.emptyEl.replaceChildren(
      h("div", { class: cls("empty-title") }, context === "dashboard" ? "Ask about your CAD work" : "Describe a part or a change"),
      h(
        "div",
        { class: cls("empty-hint") },
        context === "dashboard"
          ? "This chat works on your workspaces, projects and documents. Open a *.solid.json document first to model a part."
          : "The assistant edits the CAD document step by step; changes to existing features wait for your approval.",
      ),
      h(
        "ul",
        { class: cls("empty-examples") },
        ...examples.map((text) =>
          h(
            "li",
            null,
            h(
              "button",
              {
                class: cls("example"),
                title: "Put this in the message box",
                onclick: () => {
                  this.input.value = text;
                  this.input.focus();
                },
              },
              text,
            ),
          ),
        ),
      ),
      h("div", { class: cls("empty-keys") }, SHORTCUTS),
    );
  }

  /** `editor` or `dashboard`: the session's, as the session list says (else the host's). */
  context() {
    const session = (this.sessions || []).find((s) => s.id === this.activeSession);
    return (session && session.context) || this.options.context || "editor";
  }

  destroy() {
    if (this.unsubscribe) this.unsubscribe();
    if (this.resizeObserver) this.resizeObserver.disconnect();
    if (this.emptyObserver) this.emptyObserver.disconnect();
    this.endPhase();
    this.root.remove();
  }

  // ------------------------------------------------------------ commands

  command(command) {
    try {
      this.transport.send(command);
    } catch (error) {
      this.showError(`Could not reach the kernel: ${error}`, false);
      this.endPhase();
      this.failPending();
    }
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    if (this.running) {
      this.showError("The agent is still answering: wait, or press Stop.", false);
      return;
    }
    this.lastUserText = text;
    this.input.value = "";
    this.showPending(text);
    this.command({ cmd: "send", text });
  }

  /** The user's message at once (optimistic), until the stream confirms or an error. */
  showPending(text) {
    const id = `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const item = this.ensureMessage(id, "user");
    item.text = text;
    this.renderText(item);
    item.el.dataset.pending = "sending";
    this.pendingUser = { id, item };
    this.setRunning(true);
    this.beginPhase("Sending…");
    this.scrollToEnd(true);
  }

  /** The server stored the message (its run was accepted): no longer pending. */
  confirmPending() {
    if (this.pendingUser) delete this.pendingUser.item.el.dataset.pending;
    this.pendingUser = null;
  }

  /** The message never reached the server: say so on it, and give the input back. */
  failPending() {
    const pending = this.pendingUser;
    if (!pending) return;
    this.pendingUser = null;
    pending.item.el.dataset.pending = "failed";
    this.setRunning(false);
    this.setStatus("error", "Not sent");
  }

  // ------------------------------------------------------------ waiting for the first token

  /**
   * A phase of waiting with nothing to show yet ("Starting the agent…", "Thinking…"): the
   * status names it with the time since Send, until the first token or tool call.
   */
  beginPhase(label) {
    if (!this.phase) this.phase = { since: Date.now() };
    this.phase.label = label;
    if (!this.phaseTimer) this.phaseTimer = setInterval(() => this.renderPhase(), 250);
    this.renderPhase();
  }

  renderPhase() {
    if (!this.phase) return;
    const seconds = (Date.now() - this.phase.since) / 1000;
    const elapsed = seconds >= 1 ? ` ${seconds.toFixed(0)} s` : "";
    this.setStatus("busy", `${this.phase.label}${elapsed}`);
  }

  endPhase() {
    if (this.phaseTimer) clearInterval(this.phaseTimer);
    this.phaseTimer = null;
    this.phase = null;
  }

  stop() {
    this.command({ cmd: "stop" });
  }

  loadEarlier() {
    this.stick = false;
    this.moreButton.disabled = true;
    this.command({ cmd: "more", view: this.view, before: this.first });
  }

  // ------------------------------------------------------------ incoming

  receive(message, buffers) {
    if (!message || typeof message !== "object") return;
    switch (message.kind) {
      case "reset":
        if (message.view && message.view !== this.view) return;
        this.reset(message);
        break;
      case "history":
        if (message.view !== this.view) return;
        this.prepend(message);
        break;
      case "events":
        if (message.session && this.activeSession && message.session !== this.activeSession) return;
        if (this.waitingReset) {
          this.queued.push(...message.events);
          return;
        }
        this.applyEvents(message.events);
        break;
      case "sessions":
        this.renderSessions(message.sessions || [], message.active);
        break;
      case "view":
        this.showView(message, buffers);
        break;
      case "thumbnail":
        this.showThumbnail(message);
        break;
      case "error":
        this.endPhase();
        this.failPending();
        this.showError(message.message || "Error", Boolean(message.retry));
        break;
      default:
        break;
    }
  }

  reset(message) {
    this.endPhase();
    this.pendingUser = null;
    this.waitingReset = false;
    this.activeSession = message.session || null;
    this.messages.clear();
    this.cards.clear();
    this.lastGeometry = null;
    this.log.replaceChildren();
    this.offset = message.offset || null;
    this.first = message.first || 0;
    this.moreButton.hidden = this.first <= 0;
    this.moreButton.disabled = false;
    if (message.model) {
      this.modelEl.textContent = shortModel(message.model);
      this.modelEl.title = `Model: ${message.model}`;
      this.modelEl.hidden = false;
    }
    this.showDemo(message.demo);
    const fragment = document.createDocumentFragment();
    for (const item of message.messages || []) this.renderStored(item, fragment);
    this.log.append(fragment);
    for (const interrupt of message.interrupts || []) this.showApproval(interrupt);
    this.setRunning(Boolean(message.running), message.running ? "Working…" : null);
    if ((message.interrupts || []).length) this.setStatus("waiting", "Waiting for your approval");
    const queued = this.queued;
    this.queued = [];
    this.applyEvents(queued);
    this.scrollToEnd(true);
  }

  prepend(message) {
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    const fragment = document.createDocumentFragment();
    // Older results compare among themselves, not with the newest shown.
    const latest = this.lastGeometry;
    this.lastGeometry = null;
    for (const item of message.messages || []) this.renderStored(item, fragment);
    this.lastGeometry = latest;
    this.log.prepend(fragment);
    this.first = message.first || 0;
    this.moreButton.hidden = this.first <= 0;
    this.moreButton.disabled = false;
    this.scroller.scrollTop = this.scroller.scrollHeight - before; // keep the reader's place
  }

  applyEvents(events) {
    const stick = this.nearEnd();
    for (const item of events || []) {
      if (item.o && this.offset && item.o <= this.offset) continue; // already shown
      if (item.o) this.offset = item.o;
      try {
        this.applyEvent(item.e || item);
      } catch (error) {
        console.error("solidtype chat: cannot render event", item, error);
      }
    }
    if (stick) this.scrollToEnd(false);
    else this.latestButton.hidden = this.nearEnd();
  }

  applyEvent(event) {
    switch (event.type) {
      case "RUN_STARTED":
        this.clearErrors();
        this.confirmPending();
        this.setRunning(true);
        this.beginPhase("Thinking…");
        break;
      case "TEXT_MESSAGE_START":
        if ((event.role || "assistant") === "user" && this.pendingUser && !this.messages.has(event.messageId)) {
          // The stored copy of the message shown at Send (the notebook streams it back):
          // the same element takes the stored id, and its text comes again as content.
          const { id, item } = this.pendingUser;
          this.confirmPending();
          this.messages.delete(id);
          this.messages.set(event.messageId, item);
          item.el.dataset.messageId = event.messageId;
          item.text = "";
          break;
        }
        this.ensureMessage(event.messageId, event.role || "assistant", event.metadata);
        break;
      case "TEXT_MESSAGE_CONTENT": {
        const message = this.ensureMessage(event.messageId, "assistant", event.metadata);
        message.text += event.delta || "";
        this.scheduleText(message);
        if (this.running && message.role === "assistant") {
          this.endPhase();
          this.setStatus("busy", "Writing…");
        }
        break;
      }
      case "TEXT_MESSAGE_END": {
        const message = this.messages.get(event.messageId);
        if (message) this.renderText(message);
        break;
      }
      case "TOOL_CALL_START": {
        const card = this.ensureCard(event.toolCallId, event.toolCallName, event.parentMessageId);
        this.endPhase();
        this.setStatus("busy", `Calling ${toolTitle(card.name)}…`);
        break;
      }
      case "TOOL_CALL_ARGS": {
        const card = this.ensureCard(event.toolCallId);
        card.args += event.delta || "";
        this.scheduleArgs(card);
        break;
      }
      case "TOOL_CALL_END": {
        const card = this.ensureCard(event.toolCallId);
        card.argsEl.textContent = prettyJson(card.args);
        card.el.dataset.state = "called";
        break;
      }
      case "TOOL_CALL_RESULT": {
        const card = this.ensureCard(event.toolCallId);
        const isError = Boolean(event.metadata && event.metadata.solidtype && event.metadata.solidtype.isError);
        this.showResult(card, event.content, isError);
        if (this.running) this.setStatus("busy", "Thinking…");
        break;
      }
      case "RUN_FINISHED": {
        this.confirmPending();
        const interrupts = (event.outcome && event.outcome.interrupts) || [];
        for (const interrupt of interrupts) this.showApproval(interrupt);
        this.setRunning(false);
        if (interrupts.length) this.setStatus("waiting", "Waiting for your approval");
        else {
          const reason = event.metadata && event.metadata.solidtype && event.metadata.solidtype.reason;
          this.setStatus("idle", reason === "cancelled" ? "Stopped" : "Ready");
        }
        break;
      }
      case "RUN_ERROR":
        this.confirmPending();
        this.setRunning(false); // ends the waiting phase too
        this.setStatus("error", errorText(event.message));
        this.showError(event.message || "The run failed", true, event.code);
        break;
      case "STEP_STARTED":
        this.endPhase();
        this.setStatus("busy", event.stepName || "Working…");
        break;
      case "STATE_SNAPSHOT":
        this.applyState(event.snapshot);
        break;
      case "CUSTOM":
        if (event.name === "solidtype.notice") this.showNotice(event.value || {});
        else if (event.name === "solidtype.status") {
          this.endPhase();
          this.applyState(event.value);
        } else if (event.name === "run.accepted") {
          // Stored: the message is in. The server says whether the session's agent must be
          // started first (a kernel agent takes seconds before its RUN_STARTED).
          this.confirmPending();
          if (!this.running) this.setRunning(true);
          const starting = Boolean(event.value && event.value.agentStarting);
          this.beginPhase(starting ? "Starting the agent…" : "Thinking…");
        }
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------ messages

  renderStored(message, target) {
    if (message.role === "tool") {
      const card = this.cards.get(message.toolCallId) || this.ensureCard(message.toolCallId, "tool", null, target);
      this.showResult(card, message.content, false);
      return;
    }
    if (message.content) {
      const item = this.ensureMessage(message.id, message.role, message.metadata, target);
      item.text = message.content;
      this.renderText(item);
    }
    for (const call of message.toolCalls || []) {
      const card = this.ensureCard(call.id, call.function && call.function.name, message.id, target);
      card.args = (call.function && call.function.arguments) || "{}";
      card.argsEl.textContent = prettyJson(card.args);
      card.el.dataset.state = "called";
    }
  }

  ensureMessage(id, role, metadata, target) {
    const key = id || `m${this.messages.size}`;
    let message = this.messages.get(key);
    if (message) return message;
    const notice = metadata && metadata.solidtype && metadata.solidtype.notice;
    const body = h("div", { class: cls("text") });
    const el = h(
      "div",
      { class: `${cls("message")} ${cls(`message--${role}`)}${notice ? ` ${cls("message--notice")}` : ""}`, "data-message-id": key },
      h("div", { class: cls("role") }, role === "user" ? "You" : notice ? "Notice" : "Assistant"),
      body,
    );
    message = { el, body, text: "", role, frame: 0 };
    this.messages.set(key, message);
    (target || this.log).append(el);
    return message;
  }

  scheduleText(message) {
    // Re-render a streaming message at most once per frame (markdown needs the whole text).
    if (message.frame) return;
    message.frame = requestAnimationFrame(() => {
      message.frame = 0;
      this.renderText(message);
    });
  }

  renderText(message) {
    if (message.frame) {
      cancelAnimationFrame(message.frame);
      message.frame = 0;
    }
    if (message.role === "user") message.body.textContent = message.text;
    else message.body.replaceChildren(renderMarkdown(message.text));
  }

  // ------------------------------------------------------------ tool cards

  ensureCard(id, name, parentMessageId, target) {
    let card = this.cards.get(id);
    if (card) {
      if (name && card.name === "tool") {
        card.name = name;
        card.nameEl.textContent = toolTitle(name);
      }
      return card;
    }
    const nameEl = h("span", { class: cls("tool-name") }, toolTitle(name));
    const stateEl = h("span", { class: cls("tool-state") }, "running");
    const argsEl = h("pre", { class: cls("tool-args") });
    const resultEl = h("div", { class: cls("tool-result") });
    const approvalEl = h("div", { class: cls("approval-slot") });
    const details = h(
      "details",
      { class: cls("tool-details") },
      h("summary", null, "Arguments"),
      argsEl,
    );
    const el = h(
      "div",
      { class: cls("tool"), "data-tool-call-id": id, "data-tool-name": name || "tool", "data-state": "running" },
      h("div", { class: cls("tool-header") }, h("span", { class: cls("tool-icon") }, "⚙"), nameEl, stateEl),
      details,
      resultEl,
      approvalEl,
    );
    card = { id, name: name || "tool", el, nameEl, stateEl, argsEl, resultEl, approvalEl, args: "", frame: 0 };
    this.cards.set(id, card);
    (target || this.log).append(el);
    return card;
  }

  scheduleArgs(card) {
    if (card.frame) return;
    card.frame = requestAnimationFrame(() => {
      card.frame = 0;
      card.argsEl.textContent = card.args;
    });
  }

  showResult(card, content, isError) {
    const value = parseJson(content);
    const error = isError || Boolean(value && typeof value === "object" && value.error && !value.ok);
    card.el.dataset.state = error ? "error" : "done";
    card.stateEl.textContent = error ? "failed" : "done";
    card.approvalEl.replaceChildren();
    const rows = resultFigures(value);
    const parts = [];
    if (error) {
      const text = value && typeof value === "object" ? errorText(value, content) : errorText(content);
      parts.push(h("div", { class: cls("tool-error") }, text));
    } else if (rows.length) {
      const table = h("table", { class: cls("figures") });
      for (const [key, figure] of rows) table.append(h("tr", null, h("th", null, figureLabel(key)), h("td", null, figure)));
      parts.push(
        h(
          "details",
          { class: cls("tool-figures") },
          h("summary", { class: cls("tool-summary") }, this.headline(card, value, rows)),
          table,
        ),
      );
    } else if (content) {
      parts.push(h("pre", { class: cls("tool-output") }, String(content).slice(0, 2000)));
    }
    const thumb = card.resultEl.querySelector(`.${cls("thumbnail")}`);
    card.resultEl.replaceChildren(...parts);
    if (thumb) card.resultEl.append(thumb);
  }

  /** The card's one line; remembers the geometry so the next card can say what changed. */
  headline(card, value, rows) {
    const cad = value && typeof value === "object" ? cadHeadline(value, parseJson(card.args), this.lastGeometry) : null;
    if (cad !== null) {
      this.lastGeometry = value.geometry;
      return cad;
    }
    return summaryLine(rows);
  }

  showThumbnail(message) {
    const card = this.cards.get(message.toolCallId);
    if (!card || !message.png) return;
    let img = card.resultEl.querySelector(`.${cls("thumbnail")}`);
    if (!img) {
      img = h("img", { class: cls("thumbnail"), alt: `${card.name} picture` });
      card.resultEl.append(img);
    }
    img.src = `data:image/png;base64,${message.png}`;
  }

  showApproval(interrupt) {
    const meta = interrupt.metadata || {};
    const toolCallId = interrupt.toolCallId;
    const card = this.ensureCard(toolCallId, meta.toolName);
    card.el.dataset.state = "approval";
    card.stateEl.textContent = "needs approval";
    const editor = h("textarea", {
      class: cls("approval-args"),
      rows: 4,
      spellcheck: "false",
      "aria-label": "Arguments",
      "data-lm-suppress-shortcuts": "true",
    });
    editor.value = JSON.stringify(meta.input || parseJson(card.args) || {}, null, 2);
    const original = editor.value;
    const problem = h("div", { class: cls("approval-problem") });
    const decide = (approved) => {
      const command = { cmd: approved ? "approve" : "reject", interruptId: interrupt.id, toolCallId };
      if (approved && editor.value !== original) {
        const edited = parseJson(editor.value);
        if (!edited || typeof edited !== "object" || Array.isArray(edited)) {
          problem.textContent = "The arguments must be a JSON object.";
          return;
        }
        command.editedArgs = edited;
      }
      for (const button of box.querySelectorAll("button")) button.disabled = true;
      card.stateEl.textContent = approved ? "approved" : "rejected";
      this.command(command);
    };
    const box = h(
      "div",
      { class: cls("approval") },
      h("div", { class: cls("approval-header") }, "⚠ ", interrupt.message || `Approve ${toolTitle(meta.toolName)}?`),
      editor,
      problem,
      h(
        "div",
        { class: cls("approval-actions") },
        h("button", { class: `${cls("button")} ${cls("reject")}`, onclick: () => decide(false) }, "✕ Reject"),
        h("button", { class: `${cls("button")} ${cls("approve")}`, onclick: () => decide(true) }, "✓ Approve"),
      ),
    );
    card.approvalEl.replaceChildren(box);
  }

  showNotice(value) {
    // A missing model is explained by the notice message that follows (one box, not two).
    if (value.kind === "model_not_configured") return;
    if (value.kind === "tool" && value.toolCallId && this.cards.has(value.toolCallId)) {
      const card = this.cards.get(value.toolCallId);
      card.el.append(h("div", { class: cls("notice-inline") }, value.message || ""));
      return;
    }
    this.log.append(h("div", { class: `${cls("notice")} ${cls(`notice--${value.kind || "info"}`)}` }, value.message || ""));
  }

  // ------------------------------------------------------------ status, errors, sessions

  setRunning(running, task) {
    this.running = running;
    this.stopButton.hidden = !running;
    this.sendButton.disabled = running;
    if (!running) this.endPhase();
    if (this.phase) return; // the waiting phase names the status
    if (running) this.setStatus("busy", task || "Working…");
    else this.setStatus("idle", "Ready");
  }

  setStatus(state, text, progress) {
    this.statusEl.className = `${cls("status")} ${cls(`status--${state}`)}`;
    this.statusText.textContent = text || "";
    const bar = this.progress.firstChild;
    if (typeof progress === "number") {
      this.progress.dataset.mode = "determinate";
      bar.style.width = `${Math.max(0, Math.min(100, progress))}%`;
    } else {
      this.progress.dataset.mode = state === "busy" ? "indeterminate" : "off";
      bar.style.width = "";
    }
  }

  applyState(state) {
    if (!state || typeof state !== "object") return;
    const task = state.currentTask || state.task;
    const progress = typeof state.progress === "number" ? state.progress : undefined;
    if (task || progress !== undefined) this.setStatus(state.status || "busy", task || this.statusText.textContent, progress);
  }

  /** A recorded demo says so above the conversation, with how to connect a real model
   * (`demo` = {notice, prompts} from the host, or null for a real model). */
  showDemo(demo) {
    this.demo = demo && typeof demo === "object" ? demo : null;
    this.demoEl.hidden = !this.demo;
    if (!this.demo) return;
    // One line that a narrow panel keeps; the notice (how to connect a model) one click away.
    const notice = String(this.demo.notice || "");
    this.demoEl.title = notice;
    this.demoEl.replaceChildren(
      h(
        "details",
        null,
        h("summary", null, h("strong", null, "Recorded demo"), " · not a real model: how to connect one"),
        h("div", { class: cls("demo-notice") }, renderInline(notice)),
      ),
    );
    delete this.emptyEl.dataset.context; // the examples become the recorded requests
    this.updateEmpty();
  }

  showError(message, retry, code) {
    const actions = [];
    if (retry) {
      actions.push(
        h(
          "button",
          {
            class: `${cls("button")} ${cls("retry")}`,
            onclick: (event) => {
              event.target.disabled = true;
              this.command({ cmd: "retry" });
            },
          },
          "↻ Retry",
        ),
      );
    }
    this.log.append(
      h(
        "div",
        { class: cls("error"), role: "alert" },
        h("strong", null, code ? `Error (${code}): ` : "Error: "),
        errorText(message),
        ...actions,
      ),
    );
    this.scrollToEnd(false);
  }

  clearErrors() {
    for (const button of this.log.querySelectorAll(`.${cls("retry")}`)) button.disabled = true;
  }

  renderSessions(sessions, active) {
    this.sessions = sessions;
    const items = sessions
      .filter((s) => s.status !== "archived")
      .map((session) =>
        h(
          "div",
          {
            class: `${cls("session")}${session.id === active ? ` ${cls("session--active")}` : ""}`,
            "data-session-id": session.id,
            onclick: () => {
              if (session.id !== active) this.command({ cmd: "switch", session: session.id });
              this.root.classList.remove(cls("show-sessions"));
            },
          },
          h("span", { class: cls("session-title") }, session.title || "New chat"),
          h("span", { class: cls("session-count") }, plural(session.messageCount || 0, "msg")),
          h(
            "button",
            {
              class: cls("session-archive"),
              title: "Archive",
              "aria-label": "Archive",
              onclick: (event) => {
                event.stopPropagation();
                this.command({ cmd: "archive", session: session.id });
              },
            },
            "×",
          ),
        ),
      );
    this.sessionList.replaceChildren(...(items.length ? items : [h("div", { class: cls("session-empty") }, "No chat sessions")]));
    // The session's context picks the examples and the input's hint.
    this.input.placeholder = PLACEHOLDERS[this.context()] || this.options.placeholder || PLACEHOLDERS.editor;
    this.updateEmpty();
  }

  showView(message, buffers) {
    let source = null;
    if (message.png) source = `data:image/png;base64,${message.png}`;
    else if (buffers && buffers.length) {
      const blob = new Blob([buffers[0]], { type: "image/png" });
      source = URL.createObjectURL(blob);
    }
    this.viewer.hidden = this.options.viewer === false;
    this.viewerCaption.textContent = message.caption || "";
    if (!source) {
      this.viewerImage.hidden = true;
      this.viewer.dataset.empty = "";
      return;
    }
    // Swap only once the new picture is decoded: no blank frame between two models.
    const next = new Image();
    next.onload = () => {
      const old = this.viewerImage.src;
      this.viewerImage.src = source;
      this.viewerImage.hidden = false;
      delete this.viewer.dataset.empty;
      this.viewerImage.dataset.revision = String(message.revision ?? "");
      if (old && old.startsWith("blob:")) URL.revokeObjectURL(old);
    };
    next.src = source;
  }

  // ------------------------------------------------------------ scrolling

  nearEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd(force) {
    if (force || this.stick || this.nearEnd()) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.stick = true;
    }
    this.latestButton.hidden = this.stick || this.nearEnd();
  }
}

export function mountChat(element, transport, options = {}) {
  const panel = new ChatPanel(element, transport, options);
  return { panel, destroy: () => panel.destroy() };
}

// ---------------------------------------------------------------- anywidget host

/** The transport of the notebook widget: the model's custom messages to and from the kernel. */
export function widgetTransport(model) {
  return {
    send: (command) => model.send(command),
    subscribe(listener) {
      const handler = (message, buffers) => listener(message, buffers);
      model.on("msg:custom", handler);
      return () => model.off("msg:custom", handler);
    },
  };
}

export default {
  render({ model, el }) {
    const mounted = mountChat(el, widgetTransport(model), {
      title: model.get("title") || "SolidType AI",
      viewer: model.get("show_viewer") !== false,
      placeholder: model.get("placeholder") || undefined,
    });
    return () => mounted.destroy();
  },
};
