#!/usr/bin/env python3
"""A deliberately WRONG variant of sipws_adapter.py, for testing that `sipws vectors check
--adapter` catches real mistakes. Do not use it as an example. Its two bugs:

- subprotocol-offers: matches "sip" case-insensitively (breaks RFC 7936 §2: SIP is not sip);
- uri-transport: ignores transport=wss (drops the parameter, as if absent).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sipws_adapter as right  # noqa: E402


def choose_sip_case_insensitive(headers):
    answer = right.choose_sip([h.lower() for h in headers])
    return answer


def uri_transport_ignoring_wss(uri):
    parts = uri.split(";")
    kept = [p for p in parts[1:] if p.lower() != "transport=wss"]
    return right.uri_transport(";".join([parts[0]] + kept))


if __name__ == "__main__":
    sys.exit(
        right.main(
            {
                "subprotocol-offers": lambda i: choose_sip_case_insensitive(i["headers"]),
                "uri-transport": lambda i: uri_transport_ignoring_wss(i["uri"]),
            }
        )
    )
