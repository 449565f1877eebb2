"""reports pages (coming)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/console")
