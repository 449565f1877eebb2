"""`ivr check`: verifies a deployment from the ivr host, one line per part (ok / FAIL + the fix)."""
