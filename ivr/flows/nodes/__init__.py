"""Node kinds, one module each, in ONE explicit registry (no registration by import side effect).

Adding a kind: write its module (a NodeBase subclass with `type: Literal["name"]`), add it here.
"""

from __future__ import annotations

from ivr.flows.nodes.assign import Set
from ivr.flows.nodes.authenticate import Authenticate
from ivr.flows.nodes.base import NodeBase
from ivr.flows.nodes.branch import Branch
from ivr.flows.nodes.callback import CallbackRequest
from ivr.flows.nodes.gather import Gather
from ivr.flows.nodes.goto import Goto
from ivr.flows.nodes.greet import Greet
from ivr.flows.nodes.hangup import Hangup
from ivr.flows.nodes.lookup import Lookup
from ivr.flows.nodes.menu import Menu
from ivr.flows.nodes.play import Play
from ivr.flows.nodes.say import Say
from ivr.flows.nodes.self_service import SelfService
from ivr.flows.nodes.transfer import Transfer

NODE_KINDS: dict[str, type[NodeBase]] = {
    "say": Say,
    "play": Play,
    "greet": Greet,
    "menu": Menu,
    "gather": Gather,
    "branch": Branch,
    "set": Set,
    "lookup": Lookup,
    "authenticate": Authenticate,
    "self_service": SelfService,
    "transfer": Transfer,
    "callback_request": CallbackRequest,
    "goto": Goto,
    "hangup": Hangup,
}

# Nodes after which the flow cannot continue on its own (the call ends or leaves this flow).
TERMINAL_KINDS = frozenset({"transfer", "hangup", "goto"})

__all__ = ["NODE_KINDS", "TERMINAL_KINDS", "NodeBase"]
