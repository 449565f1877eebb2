"""Repositories: the only code that issues SQL. Each returns frozen domain objects."""

from ivr.store.repositories.audit import AuditRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.flows import FlowRepository
from ivr.store.repositories.interactions import InteractionRepository

__all__ = ["AuditRepository", "CustomerRepository", "FlowRepository", "InteractionRepository"]
