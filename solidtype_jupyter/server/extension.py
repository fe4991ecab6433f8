"""The ``solidtype`` Jupyter server extension: configuration and route table."""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default, validate

from .._version import __version__
from ..llm.model_choice import ModelChoice, resolve_model
from ..store.database import (
    SchemaBehindError,
    backend_name,
    default_database_url,
    ensure_schema,
    normalize_database_url,
)
from .streams import DEFAULT_MAX_APPEND_BYTES

URL_PREFIX = "solidtype"


class SolidTypeApp(ExtensionApp):
    """AI CAD assistant routes, sessions and durable streams inside jupyter_server.

    Configure with ``c.SolidTypeApp.<trait>`` in ``jupyter_server_config.py`` or with the
    environment variables named on each trait.
    """

    name = "solidtype"
    description = __doc__
    load_other_extensions = True

    database_url = Unicode(
        help="SQLAlchemy URL of the database holding sessions and durable streams. "
        "Environment: SOLIDTYPE_DATABASE_URL. Default: a SQLite file in the Jupyter data "
        "directory. `postgresql://user@host/db` uses psycopg 3.",
    ).tag(config=True)

    model = Unicode(
        help="The chat model as `provider:model`: `anthropic:claude-sonnet`, "
        "`openai-compatible:llama3.1`, `scripted:/path/to/turns.jsonl`. Environment: "
        "SOLIDTYPE_MODEL. Empty: Anthropic's default model when ANTHROPIC_API_KEY is set, "
        "otherwise no model (the chat then says how to configure one).",
    ).tag(config=True)

    default_runtime = Enum(
        ["kernel", "thread", "remote"],
        default_value="kernel",
        help="Where agents run by default: a dedicated Jupyter kernel, a thread of the "
        "server process, or another Jupyter server.",
    ).tag(config=True)

    agent_pool_size = Int(
        1,
        help="Agent kernels kept started ahead (CadQuery imported) so an agent spawns in "
        "well under a second; each waiting kernel holds about 600 MB. The pool fills on "
        "the first agent spawn. 0: no pool (every spawn starts a kernel).",
    ).tag(config=True)

    agent_init_timeout = Float(
        30.0,
        help="Seconds an agent may take from spawn to ready (kernel start included) before "
        "it is stopped and the turn ends with a clear error.",
    ).tag(config=True)

    agent_kernel_name = Unicode(
        "",
        help="Kernel spec of agent kernels; empty: the kernel manager's default (python3). "
        "It must have solidtype_jupyter and CadQuery installed.",
    ).tag(config=True)

    agent_idle_timeout = Float(
        600.0,
        help="Seconds after which an agent nobody used is stopped (its kernel freed); the "
        "session's next message starts a new one. 0: never.",
    ).tag(config=True)

    agent_remote_url = Unicode(
        "",
        help="Base URL of the Jupyter server (with this extension) that runs agents for the "
        "`remote` runtime, e.g. https://agents.example.org/user/me/. Environment: "
        "SOLIDTYPE_AGENT_REMOTE_URL.",
    ).tag(config=True)

    agent_remote_token = Unicode(
        "",
        help="API token for agent_remote_url. Environment: SOLIDTYPE_AGENT_REMOTE_TOKEN.",
    ).tag(config=True)

    agent_tool_modules = List(
        Unicode(),
        help="Modules imported by every agent whose `register(registry)` adds tools to it "
        "(extensions of the CAD tool set). They must be importable in agent kernels.",
    ).tag(config=True)

    tool_timeout = Float(
        120.0,
        help="Seconds one tool call may take. A call that takes longer is stopped and the "
        "model reads a tool error saying so; an agent whose tool does not return then (CAD "
        "kernels run blocking C code) is replaced, and so is one whose tool was running "
        "when the user pressed Stop. Also read by `%ai_chat`. 0: no limit.",
    ).tag(config=True)

    max_agents = Int(
        4,
        help="Most agent kernels this server keeps at once, the warm pool's included (each "
        "holds about 700 MB, BENCHMARKS.md). A new agent first stops the least recently "
        "used idle one; when every agent is busy the turn ends with an error saying so. "
        "0: no limit.",
    ).tag(config=True)

    max_agents_per_user = Int(
        2,
        help="Most agent kernels one user's sessions hold at once (the user's least "
        "recently used idle agent is stopped first; when all are busy the turn ends with "
        "an error saying so). 0: no limit.",
    ).tag(config=True)

    anonymous_owner = Unicode(
        help="Owner of the sessions of logins that name no user (a single-user server's "
        "token or password; jupyter_server gives each browser a random anonymous user). "
        "Default: SOLIDTYPE_USER, else JUPYTERHUB_USER, else the account the server runs as: "
        "the owner kernels use too, so %ai_chat sessions show in the side panel. Servers "
        "with real logins (JupyterHub, an identity provider) use the login's user name.",
    ).tag(config=True)

    approval_overrides = Dict(
        value_trait=Unicode(),
        help="Tool name -> approval level (`auto`: run at once, `notify`: run and show a "
        "notice, `confirm`: wait for Approve/Reject), winning over the built-in levels, e.g. "
        "{'delete_feature': 'confirm', 'set_parameter': 'notify'}. Applies to the server's "
        "agents and to `%ai_chat` (which reads the same config files).",
    ).tag(config=True)

    max_mcp_sessions_per_user = Int(
        8,
        help="Most MCP sessions ({base}solidtype/mcp) one user holds at once. A new one first "
        "ends the user's least recently used session that has no request running (a client "
        "that went away without ending it); when every one is in use it is refused (503) "
        "saying so. Each session's agent counts against max_agents_per_user. 0: no limit.",
    ).tag(config=True)

    mcp_approvals = Enum(
        ["elicit", "client", "auto"],
        "client",
        help="Who approves `confirm` tools called over MCP ({base}solidtype/mcp): 'client' "
        "(the MCP client's own permission prompt), 'elicit' (also ask through MCP "
        "elicitation when the client supports it) or 'auto' (nobody); README, MCP.",
    ).tag(config=True)

    long_poll_timeout = Float(
        30.0,
        help="Seconds a long-poll read of a durable stream waits for new data before it "
        "answers 204.",
    ).tag(config=True)

    max_chat_message_chars = Int(
        100_000,
        help="Longest chat message (characters) a chat request may carry; a longer one is "
        "refused with 413 before anything is stored or sent to the model.",
    ).tag(config=True)

    max_messages_per_request = Int(
        1_000,
        help="Most messages one chat request may carry (TanStack's ChatClient sends the whole "
        "conversation; the server reads only the last one); more is refused with 413.",
    ).tag(config=True)

    max_chat_request_bytes = Int(
        10 * 1024 * 1024,
        help="Largest body (bytes) of a chat request (POST .../api/ai/chat); a larger one is "
        "refused with 413 as it arrives, never held in memory (up to 16 times the limit it is "
        "read and dropped so the client reads the answer; beyond, the connection is closed).",
    ).tag(config=True)

    streams_public = Bool(
        False,
        help="Serve the durable streams at {base}solidtype/v1/stream/ WITHOUT "
        "authentication, XSRF or origin checks: anyone who can reach the server can read, "
        "write and delete every stream (all chat content). Only for a server bound to a "
        "trusted loopback interface, e.g. to run the Durable Streams conformance suite.",
    ).tag(config=True)

    streams_sse_reconnect = Float(
        60.0,
        help="Seconds after which a live SSE stream read is ended so the client reconnects "
        "from its last offset (lets CDNs collapse requests).",
    ).tag(config=True)

    max_stream_append_bytes = Int(
        DEFAULT_MAX_APPEND_BYTES,
        help="Largest body (bytes) of a write to a durable stream through "
        "{base}solidtype/v1/stream/ (an append, or a create's first data); a larger one is "
        "refused with 413 and never stored or held in memory (up to 16 times the limit it is "
        "read and dropped so the client reads the answer; beyond, the connection is closed). "
        "The chat's own events are stored by the server and never pass this route.",
    ).tag(config=True)

    freeze_startup_heap = Bool(
        True,
        help="Once the server has started, move the objects it holds (imported modules, "
        "CadQuery, the model SDKs: about 750,000) out of the garbage collector's full "
        "collections (gc.freeze). Without it each full collection stops the server for "
        "about 0.3 s, which shows as stalls in streamed answers.",
    ).tag(config=True)

    stream_writer = Enum(
        ["auto", "thread", "process"],
        "auto",
        help="Where the durable streams' write transactions run: 'thread' (a thread of the "
        "server), 'process' (a child process of the server, so their Python work does not "
        "compete with the event loop for the interpreter lock; it exits with the server, "
        "and if it dies the writes in flight fail with 503 and the next write starts a new "
        "one) or 'auto': a process on PostgreSQL, a thread on SQLite, which measured best "
        "for each (BENCHMARKS.md, Chat).",
    ).tag(config=True)

    mcp: Any = None  # server.mcp_http.McpService, made by the first MCP request
    _stream_engine: Any = None
    _stream_engine_started: Any = None

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.presence is not None and self.presence.enabled and self._database is not None:
            from ..presence.kernel_agents import KernelAgentWatcher
            from ..store import AgentHeartbeatRepository

            # Agents of %ai_chat run in kernels: they appear through their heartbeats.
            self.kernel_agents = KernelAgentWatcher(
                self.presence, AgentHeartbeatRepository(self._database), serverapp.root_dir
            )
            self.kernel_agents.start()
        if self.freeze_startup_heap:
            from ..heap import freeze_startup_heap

            frozen = freeze_startup_heap()
            self.log.info("solidtype: %d start-up objects frozen out of gc", frozen)

    async def started_stream_engine(self) -> Any:
        """The durable streams engine on ``database_url``, started on first use."""
        import asyncio

        from ..streams import open_engine

        if self._stream_engine_started is None:
            self._stream_engine = open_engine(
                self.database_url,
                writer=self.stream_writer,
                long_poll_timeout=self.long_poll_timeout,
            )
            self._stream_engine_started = asyncio.ensure_future(self._stream_engine.start())
        try:
            await asyncio.shield(self._stream_engine_started)
        except Exception:
            # e.g. PostgreSQL unreachable: fail this request, let the next one try again.
            self._stream_engine = self._stream_engine_started = None
            raise
        return self._stream_engine

    @property
    def stream_authorizer(self) -> Any:
        """Per-user stream ownership (own sessions' and documents' streams); ``None``
        (deny all) until the repositories exist."""
        from ..streams.authz import CatalogDocumentLookup, SessionStreamAuthorizer

        sessions = getattr(self, "sessions", None)
        catalog = getattr(self, "catalog", None)
        if sessions is None:
            return None
        documents = None if catalog is None else CatalogDocumentLookup(catalog)
        return SessionStreamAuthorizer(sessions, documents)

    async def stop_extension(self) -> None:
        if self.mcp is not None:  # MCP sessions first: they stop their agents
            await self.mcp.close()
            self.mcp = None
        if self.chat is not None:
            await self.chat.close()
            self.chat = None
        if self.agents is not None:
            await self.agents.close()
            self.agents = None
        if self.kernel_agents is not None:
            await self.kernel_agents.close()
            self.kernel_agents = None
        if self.presence is not None:
            await self.presence.close()
            self.presence = None
        if self._stream_engine is not None:
            await self._stream_engine.close()
            self._stream_engine = self._stream_engine_started = None
        if self._database is not None:
            import asyncio

            await asyncio.to_thread(self._database.close)
            self._database = None

    @default("database_url")
    def _database_url_default(self) -> str:
        return os.environ.get("SOLIDTYPE_DATABASE_URL") or default_database_url()

    @validate("database_url")
    def _validate_database_url(self, proposal: dict[str, Any]) -> str:
        try:
            return normalize_database_url(proposal["value"])
        except ValueError as exc:
            raise TraitError(str(exc)) from exc

    @default("agent_remote_url")
    def _agent_remote_url_default(self) -> str:
        return os.environ.get("SOLIDTYPE_AGENT_REMOTE_URL", "")

    @default("agent_remote_token")
    def _agent_remote_token_default(self) -> str:
        return os.environ.get("SOLIDTYPE_AGENT_REMOTE_TOKEN", "")

    @default("anonymous_owner")
    def _anonymous_owner_default(self) -> str:
        from ..identity import local_user

        return local_user()

    @validate("anonymous_owner")
    def _validate_anonymous_owner(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if not value or len(value) > 255:
            raise TraitError("anonymous_owner must be a user name of 1 to 255 characters")
        return value

    @default("model")
    def _model_default(self) -> str:
        return os.environ.get("SOLIDTYPE_MODEL", "")

    @validate("model")
    def _validate_model(self, proposal: dict[str, Any]) -> str:
        try:
            resolve_model(proposal["value"], os.environ)
        except ValueError as exc:
            raise TraitError(str(exc)) from exc
        return str(proposal["value"])

    @validate("approval_overrides")
    def _validate_approval_overrides(self, proposal: dict[str, Any]) -> dict[str, str]:
        from ..llm.tool_executor import validate_approval_overrides

        try:
            return dict(validate_approval_overrides(proposal["value"]))
        except ValueError as exc:
            raise TraitError(f"approval_overrides: {exc}") from exc

    @validate("agent_pool_size")
    def _validate_agent_pool_size(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if not 0 <= value <= 32:
            raise TraitError(f"agent_pool_size must be between 0 and 32, got {value}")
        return value

    @validate("agent_init_timeout")
    def _validate_agent_init_timeout(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0 < value <= 3600:
            raise TraitError(f"agent_init_timeout must be in (0, 3600] seconds, got {value}")
        return value

    @validate("agent_idle_timeout")
    def _validate_agent_idle_timeout(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if value < 0:
            raise TraitError(f"agent_idle_timeout cannot be negative, got {value}")
        return value

    @validate("tool_timeout")
    def _validate_tool_timeout(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0 <= value <= 86400:
            raise TraitError(f"tool_timeout must be in [0, 86400] seconds, got {value}")
        return value

    @validate("max_agents", "max_agents_per_user", "max_mcp_sessions_per_user")
    def _validate_max_agents(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if not 0 <= value <= 1000:
            raise TraitError(
                f"{proposal['trait'].name} must be between 0 (no limit) and 1000, got {value}"
            )
        return value

    @validate(
        "max_chat_message_chars",
        "max_messages_per_request",
        "max_chat_request_bytes",
        "max_stream_append_bytes",
    )
    def _validate_request_limits(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise TraitError(f"{proposal['trait'].name} must be at least 1, got {value}")
        return value

    @validate("long_poll_timeout")
    def _validate_long_poll_timeout(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0 < value <= 3600:
            raise TraitError(f"long_poll_timeout must be in (0, 3600] seconds, got {value}")
        return value

    @property
    def model_choice(self) -> ModelChoice | None:
        return resolve_model(self.model, os.environ)

    @property
    def database_backend(self) -> str:
        return backend_name(self.database_url)

    def initialize_settings(self) -> None:
        try:
            status = ensure_schema(self.database_url)
        except SchemaBehindError as exc:
            # Loading errors of extensions are only logged by jupyter_server; a server
            # without its schema would fail on every request instead, so stop here.
            self.log.critical("solidtype: %s", exc)
            raise SystemExit(1) from exc
        self.log.info(
            "solidtype %s: %s database, schema %s",
            __version__,
            self.database_backend,
            ",".join(status.current) or "empty",
        )
        self._open_repositories()
        self._open_agents()
        self._open_chat()

    # Sessions and catalog: the repositories every route uses (``self.sessions``,
    # ``self.catalog``), created once the schema is known to be current.
    _database: Any = None
    sessions: Any = None
    catalog: Any = None

    def _open_repositories(self) -> None:
        from ..store import CatalogRepository, ChatSessionRepository, ThreadedDatabase
        from .contents_events import watch_contents

        self._database = ThreadedDatabase(self.database_url)
        self.sessions = ChatSessionRepository(
            self._database, delete_stream=self._delete_chat_stream
        )
        self.catalog = CatalogRepository(self._database)
        if self.serverapp is not None:
            watch_contents(self.serverapp.event_logger, self.catalog)

    async def _delete_chat_stream(self, path: str) -> None:
        engine = await self.started_stream_engine()
        await engine.delete(path, missing_ok=True)

    # The chat turns (``self.chat``): runs in this process, events in the durable streams.
    chat: Any = None
    # The live agents (``self.agents``, an ``agent.AgentRuntimes``): one per chat session.
    agents: Any = None
    presence: Any = None
    kernel_agents: Any = None  # presence.kernel_agents.KernelAgentWatcher, with presence on

    def _open_agents(self) -> None:
        from ..agent.client import AgentRuntimes
        from ..agent.pool import KernelPool
        from ..llm.redact import register_secret

        # Set in a config file they are in no environment: errors must not show them either.
        register_secret(self.agent_remote_token)
        register_secret(getattr(getattr(self.serverapp, "identity_provider", None), "token", None))

        kernel_manager = getattr(self.serverapp, "kernel_manager", None)
        pool = None
        if kernel_manager is not None and self.agent_pool_size > 0:
            pool = KernelPool(
                kernel_manager, self.agent_pool_size, kernel_name=self.agent_kernel_name or None
            )
        self.agents = AgentRuntimes(
            kernel_manager=kernel_manager,
            pool=pool,
            default_runtime=self.default_runtime,  # type: ignore[arg-type]
            init_timeout=self.agent_init_timeout,
            kernel_name=self.agent_kernel_name or None,
            remote_url=self.agent_remote_url or None,
            remote_token=self.agent_remote_token or None,
            idle_timeout=self.agent_idle_timeout or None,
            max_agents=self.max_agents or None,
            max_agents_per_user=self.max_agents_per_user or None,
        )
        from ..presence import AgentPresence

        # Agents appear as collaborators when jupyter-collaboration runs in this server.
        self.presence = AgentPresence(self.serverapp)
        self.presence.follow(self.agents)

    def _open_chat(self) -> None:
        from pathlib import Path

        from ..agent import ChatService, InProcessAgent
        from ..agent.client import RuntimeChatAgent
        from ..llm import LoopConfig, create_adapter

        root = getattr(self.serverapp, "root_dir", None)
        in_process = InProcessAgent(
            lambda: create_adapter(self.model_choice, os.environ),
            catalog=self.catalog,
            root_dir=Path(root) if root else None,
            config=LoopConfig(
                approval_overrides=self.approval_overrides, tool_timeout=self.tool_timeout or None
            ),
        )
        # Editor turns run in the session's agent (default_runtime); the dashboard's tools
        # work on this server's catalog and stay in process.
        agent = RuntimeChatAgent(
            self.agents,
            model=lambda: self.model,
            root_dir=Path(root) if root else None,
            fallback=in_process,
            tool_modules=list(self.agent_tool_modules),
            approval_overrides=dict(self.approval_overrides),
            tool_timeout=self.tool_timeout,
        )
        self.chat = ChatService(
            self.started_stream_engine,
            self.sessions,
            agent,
            catalog=self.catalog,
            root_dir=Path(root) if root else None,
            require_document_access=True,
        )

    def initialize_handlers(self) -> None:
        from .routes import route_table

        self.handlers.extend(route_table(URL_PREFIX))
