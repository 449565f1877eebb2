"""A dialer in its own process, for the SIGKILL test: python -m tests.campaigns.dialer_proc
DB_URL AMI_PORT OWNER AMI_USER AMI_SECRET [LEASE_S]. Runs until killed."""

from __future__ import annotations

import asyncio
import sys

from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.store.db import Database
from ivr.telephony.ami import AmiClient


async def main(url: str, port: int, owner: str, user: str, secret: str, lease_s: float) -> None:
    client = AmiClient("127.0.0.1", port, user, secret, backoff_initial=0.05)
    dialer = Dialer(Database(url), client, DialerConfig(
        owner=owner, originate_timeout_ms=300, poll_s=0.05, lease_s=lease_s, batch_size=5))
    await dialer.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    lease = float(sys.argv[6]) if len(sys.argv) > 6 else 30.0
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], lease))
