#!/usr/bin/env bash
# Builds the seed corpora fuzz/corpus/<target>/ from the committed test vectors (vectors/*.json)
# and the RFC 4475 torture messages (tests/data/rfc4475/*.dat, committed in this repository).
# Generated, never committed (fuzz/.gitignore). Seeds are added next to whatever a previous run
# left in the corpus; files are named by their SHA-1, so re-running adds no duplicates.
#
# Usage: fuzz/seed.sh            (needs python3, standard library only)
set -euo pipefail
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$fuzz_dir")"
rfc4475="$repo/tests/data/rfc4475"

if ! command -v python3 >/dev/null; then
  echo "seed.sh: python3 not found; the corpora start empty" >&2
  mkdir -p "$fuzz_dir"/corpus/{sip_message,sip_uri,sip_via,ws_upgrade_request,ws_frames,proxy_events}
  exit 0
fi
if [ ! -d "$rfc4475" ]; then
  echo "seed.sh: $rfc4475 not found: the checkout is incomplete" >&2
  exit 1
fi

python3 - "$repo/vectors" "$fuzz_dir/corpus" "$rfc4475" <<'PY'
import hashlib, json, os, re, struct, sys

vectors, corpus, rfc4475 = sys.argv[1], sys.argv[2], sys.argv[3]
counts = {}

def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def tests(group):
    with open(os.path.join(vectors, group + ".json"), encoding="utf-8") as f:
        return json.load(f)["tests"]

# Every target gets a directory, even one no vector feeds (proxy_events: structured input).
for t in ["sip_message", "sip_uri", "sip_via", "ws_upgrade_request", "ws_frames", "proxy_events"]:
    os.makedirs(os.path.join(corpus, t), exist_ok=True)

# SIP messages: the messages group, the no-connect group's REGISTERs and requests, RFC 4475.
messages = []
for t in tests("messages"):
    i = t["input"]
    messages.append(bytes.fromhex(i["message_hex"]) if "message_hex" in i else i["message"].encode())
for t in tests("no-connect"):
    i = t["input"]
    messages += [r["message"].encode() for r in i.get("registers", [])]
    if "request" in i:
        messages.append(i["request"]["message"].encode())
for name in sorted(os.listdir(rfc4475)):
    if name.endswith(".dat"):
        with open(os.path.join(rfc4475, name), "rb") as f:
            messages.append(f.read())
for m in messages:
    add("sip_message", m)

# Header values and Request-URIs out of those messages, unfolded (RFC 3261 §7.3.1).
def header_values(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    head = re.sub(r"\r\n[ \t]+", " ", head)
    lines = head.split("\r\n")
    start, out = lines[0], []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            out.append((name.strip().lower(), value.strip()))
    return start, out

for m in messages:
    start, headers = header_values(m)
    parts = start.split(" ")
    if len(parts) == 3 and not start.upper().startswith("SIP/"):
        add("sip_uri", parts[1])
    for name, value in headers:
        if name in ("via", "v"):
            add("sip_via", value)
        elif name in ("to", "t", "from", "f", "contact", "m", "route", "record-route", "path"):
            add("sip_uri", value)
for t in tests("uri-transport"):
    add("sip_uri", t["input"]["uri"])
for t in tests("via"):
    add("sip_via", t["input"]["value"])

# Upgrade requests, and one valid 101 for the client-side check (the key of RFC 6455 §1.3,
# which the target uses as the key it sent).
for t in tests("handshake-requests"):
    add("ws_upgrade_request", t["input"]["request"])
add("ws_upgrade_request",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n")

# Frames: byte 0 configures the receiver (see fuzz_targets/ws_frames.rs), byte 1 seeds the
# chunking, then the frames as the framing group describes them (payload before masking).
MAX_MESSAGE = {1024: 0, 1023: 1, 65536: 2, 0: 3}
def frame(f):
    payload = bytes.fromhex(f["payload"])
    b0 = (0x80 if f["fin"] else 0) | ((f["rsv"] & 7) << 4) | (f["opcode"] & 0x0F)
    masked = f["masked"]
    length = f.get("declared_length", len(payload))
    form = f.get("length_form")
    if "declared_length" in f or form == "64" or (form is None and length > 0xFFFF):
        head = bytes([b0, (0x80 if masked else 0) | 127]) + struct.pack(">Q", length)
    elif form == "16" or length > 125:
        head = bytes([b0, (0x80 if masked else 0) | 126]) + struct.pack(">H", length)
    else:
        head = bytes([b0, (0x80 if masked else 0) | length])
    if masked:
        key = bytes.fromhex(f["mask_key"])
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + payload
for t in tests("framing"):
    i = t["input"]
    config = (1 if i["role"] == "client" else 0) | (MAX_MESSAGE.get(i["max_message"], 0) << 1)
    stream = b"".join(frame(f) for f in i["frames"])
    for chunk_seed in (0, 0x5A):
        add("ws_frames", bytes([config, chunk_seed]) + stream)

for target in sorted(counts):
    print(f"seed.sh: {target}: {counts[target]} new seed(s)")
PY
