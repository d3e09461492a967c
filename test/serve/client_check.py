"""Run by test/serve/python.test.ts with the machine's python3: a non-JS agent using Rein with only
the standard library. Prints one JSON object with what it saw; exits non-zero on any surprise."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "docs", "clients"))
from rein_client import Rein, ReinError  # noqa: E402

url, token = sys.argv[1], sys.argv[2]
rein = Rein(url, token=token)
out = {}
out["ready"] = rein.ready()

request = {"agent": {"id": "py", "team": "python"}, "action": {"kind": "model_call"}, "cost": {"estimate": "0.60"}}
d = rein.decide(request)
out["first"] = d["effect"]
out["reservation"] = bool(d["reservation"])
blocked = rein.decide(request)
out["second_before_settle"] = blocked["effect"]
rein.settle(d, {"cost": {"estimate": "0.05"}})
again = rein.decide(request)
out["second_after_settle"] = again["effect"]
out["spent_after_settle"] = again["budgets"][0]["spent"]

try:
    rein.settle(d, {})
    out["double_settle"] = "accepted"
except ReinError as e:
    out["double_settle"] = e.code

deny = rein.decide({"agent": {"id": "py", "team": "python"}, "action": {"kind": "tool_call", "tool": "db.drop"}})
out["deny_reason"] = deny["reasons"][0]["message"]

try:
    Rein(url, token="wrong").decide(request)
    out["wrong_token"] = "accepted"
except ReinError as e:
    out["wrong_token"] = e.status

metrics = rein.metrics()
out["metrics_allow"] = [l for l in metrics.splitlines() if l.startswith('rein_decisions_total{effect="allow"')]
print(json.dumps(out))
