"""A Rein decision-service client using only the Python standard library (urllib.request).

Copy this file into any agent: no SDK, no dependencies. See docs/service.md.

    client = Rein("http://127.0.0.1:8181", token=os.environ.get("REIN_API_TOKEN"))
    d = client.decide({"agent": {...}, "action": {...}, "cost": {"estimate": "0.02"}})
    if d["effect"] == "allow":
        result = call_the_model()
        client.settle(d, {"cost": {"estimate": f"{result.cost:.6f}"}})  # money: at most 6 decimals
"""

import json
import urllib.error
import urllib.request


class ReinError(Exception):
    """An HTTP error from the service: `status`, and `code`/`message` from its JSON error body."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Rein:
    def __init__(self, url="http://127.0.0.1:8181", token=None, settle_token=None, timeout=5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.settle_token = settle_token or token
        self.timeout = timeout

    def _request(self, method, path, body=None, token=None, raw=False):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read().decode("utf-8")
                return text if raw else json.loads(text)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                err = json.loads(text)["error"]
                raise ReinError(e.code, err.get("code"), err.get("message")) from None
            except (ValueError, KeyError, TypeError):
                raise ReinError(e.code, "http_error", text) from None

    def decide(self, request, approvals=None, explain=False):
        """The decision for `request` (budgets reserved): a dict with `effect`, `reasons`, `reservation`, …"""
        body = {"input": request}
        if approvals:
            body["approvals"] = approvals
        if explain:
            body["explain"] = True
        return self._request("POST", "/v1/decide", body, self.token)

    def evaluate(self, request):
        """Rules only: nothing is reserved."""
        return self._request("POST", "/v1/evaluate", {"input": request}, self.token)

    def settle(self, decision, usage=None):
        """Replace the decision's reservation by the actual usage (once). No-op without a reservation."""
        reservation = decision.get("reservation")
        if not reservation:
            return None
        return self._request("POST", "/v1/settle", {"reservation": reservation["id"], "usage": usage or {}}, self.settle_token)

    def ready(self):
        try:
            return self._request("GET", "/ready")["ready"]
        except ReinError:
            return False

    def metrics(self):
        """The Prometheus text exposition."""
        return self._request("GET", "/metrics", token=self.token, raw=True)
