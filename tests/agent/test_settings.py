"""Agent runtime settings of the extension are validated when they are set."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from solidtype_jupyter.server.extension import SolidTypeApp


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("agent_pool_size", -1, "between 0 and 32"),
        ("agent_pool_size", 100, "between 0 and 32"),
        ("agent_init_timeout", 0, r"\(0, 3600\]"),
        ("default_runtime", "worker", "kernel"),
        ("agent_idle_timeout", -1, "cannot be negative"),
        ("tool_timeout", -1, r"\[0, 86400\]"),
        ("max_agents", -1, "between 0 \\(no limit\\) and 1000"),
        ("max_agents_per_user", 5000, "max_agents_per_user must be between"),
    ],
)
def test_bad_agent_settings_are_refused(name, value, reason):
    with pytest.raises(TraitError, match=reason):
        SolidTypeApp(**{name: value})


def test_agent_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOLIDTYPE_AGENT_REMOTE_URL", "https://agents.example.org/")
    monkeypatch.setenv("SOLIDTYPE_AGENT_REMOTE_TOKEN", "t0ken")
    app = SolidTypeApp()
    assert (app.agent_remote_url, app.agent_remote_token) == (
        "https://agents.example.org/",
        "t0ken",
    )
    assert (app.agent_pool_size, app.agent_init_timeout, app.default_runtime) == (1, 30.0, "kernel")
    assert (app.tool_timeout, app.max_agents, app.max_agents_per_user) == (120.0, 4, 2)
