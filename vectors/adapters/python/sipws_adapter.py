#!/usr/bin/env python3
"""An independent Python implementation of two sipws vector groups, speaking the adapter
protocol of `sipws vectors check --adapter` (see ../../README.md, "Using the vectors from
another implementation").

Standard library only; it never calls sipws. It implements:

- subprotocol-offers: which subprotocol a SIP-over-WebSocket server selects (RFC 7118 §4.1,
  RFC 6455 §4.2.2, §11.3.4, RFC 7936 §2);
- uri-transport: what a SIP URI names as a next hop (RFC 7118 §5.2, §5.5; RFC 3261 §19.1,
  §26.2.2; REQUIREMENTS A1).

Usage: sipws_adapter.py GROUP   (reads one JSON test per stdin line, answers one JSON line each)
"""

import json
import re
import sys

# RFC 7230 §3.2.6: tchar.
TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def is_token(s):
    return len(s) > 0 and all(c in TCHARS for c in s)


def choose_sip(headers):
    """subprotocol-offers: the Sec-WebSocket-Protocol field values, in wire order."""
    if not headers:
        # Header absent: sip was not offered (RFC 7118 §4.1).
        return {"refused": True, "reason": "7118-4.1-c"}
    offered = []
    # RFC 6455 §11.3.4: several field lines form one comma-separated list; RFC 7230 §7:
    # empty list elements are skipped, optional whitespace around elements is ignored.
    for value in headers:
        for piece in value.split(","):
            element = piece.strip(" \t")
            if not element:
                continue
            if not is_token(element):
                # 1#token (RFC 6455 §10.7 / §11.3.4): a non-token makes the offer invalid.
                return {"refused": True, "reason": "6455-10.7-a"}
            offered.append(element)
    if not offered:
        return {"refused": True, "reason": "6455-10.7-a"}
    # RFC 7936 §2: subprotocol names match case-sensitively.
    if any(t == "sip" for t in offered):
        return {"selected": "sip"}
    return {"refused": True, "reason": "7118-4.1-c"}


HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9.])?$")
IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")


class UriError(Exception):
    pass


def parse_sip_uri(text):
    """A small SIP-URI reader (RFC 3261 §19.1, §25.1): returns (secure, port or None, params)."""
    colon = text.find(":")
    if colon <= 0:
        raise UriError("no scheme")
    scheme = text[:colon].lower()
    if scheme not in ("sip", "sips"):
        raise UriError("unsupported scheme %r" % scheme)
    rest = text[colon + 1:]
    # Headers (?...) are not needed here.
    rest = rest.split("?", 1)[0]
    hostport_and_params = rest.split(";")
    hostport = hostport_and_params[0]
    params = hostport_and_params[1:]
    if "@" in hostport:
        hostport = hostport.rsplit("@", 1)[1]
    if not hostport:
        raise UriError("expected a host")
    port = None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise UriError("unterminated IPv6 reference")
        host, after = hostport[: end + 1], hostport[end + 1:]
        if not IPV6.match(host):
            raise UriError("bad IPv6 reference")
        if after:
            if not after.startswith(":"):
                raise UriError("junk after host")
            port = after[1:]
    else:
        host, sep, port_text = hostport.partition(":")
        if sep:
            port = port_text
        if not host or not HOSTNAME.match(host):
            raise UriError("bad host %r" % host)
    if port is not None:
        if not port.isdigit() or not port.isascii() or int(port) > 65535:
            raise UriError("invalid port %r" % port)
        port = int(port)
    parsed = []
    for p in params:
        if not p:
            raise UriError("empty parameter")
        name, _, value = p.partition("=")
        parsed.append((name, value))
    return scheme == "sips", port, parsed


def uri_transport(uri):
    try:
        secure, port, params = parse_sip_uri(uri)
    except UriError as e:
        # Only the presence of parse_error is compared; the wording is ours.
        return {"parse_error": {"message": str(e), "offset": 0}}
    param = None
    for name, value in params:
        if name.lower() == "transport":
            param = value
            break
    kind, transport, unknown, reason = "unspecified", None, None, None
    if param is not None:
        p = param.lower()
        if p == "ws":
            # RFC 7118 §5.2: security comes from the scheme; sip:+ws may be WS or WSS (A1).
            if secure:
                kind, transport = "exactly", "WSS"
            else:
                kind = "ws-or-wss"
        elif p == "wss":
            # Not in RFC 7118, common in the field (A1): it can only mean WebSocket over TLS.
            kind, transport = "exactly", "WSS"
        elif p == "udp":
            if secure:
                kind, reason = "invalid", "sips: requires TLS, which UDP cannot carry"
            else:
                kind, transport = "exactly", "UDP"
        elif p == "tcp":
            # RFC 3261 §26.2.2: sips: with transport=tcp is TLS over TCP.
            kind, transport = "exactly", "TLS" if secure else "TCP"
        elif p == "tls":
            kind, transport = "exactly", "TLS"
        else:
            kind, unknown = "unknown", param
    if transport == "WSS":
        default = 443
    elif transport == "WS" or kind == "ws-or-wss":
        default = 80
    elif transport == "TLS":
        default = 5061
    elif transport in ("UDP", "TCP"):
        default = 5060
    else:
        default = 5061 if secure else 5060
    return {
        "kind": kind,
        "transport": transport,
        "param": unknown,
        "reason": reason,
        "secure": secure,
        "port": default if port is None else port,
        "port_explicit": port is not None,
    }


GROUPS = {
    "subprotocol-offers": lambda i: choose_sip(i["headers"]),
    "uri-transport": lambda i: uri_transport(i["uri"]),
}


def main(groups):
    group = sys.argv[1] if len(sys.argv) > 1 else ""
    compute = groups.get(group)
    if compute is None:
        print(json.dumps({"unsupported": group}), flush=True)
        return 0
    for line in sys.stdin:
        if not line.strip():
            continue
        test = json.loads(line)
        try:
            answer = {"id": test["id"], "output": compute(test["input"])}
        except (KeyError, TypeError) as e:
            answer = {"id": test.get("id"), "skip": "input not understood: %r" % (e,)}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(GROUPS))
