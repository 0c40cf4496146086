#!/usr/bin/env python3
"""Writes the seed corpora for fuzz/frame_parser_fuzz.cpp and fuzz/handshake_fuzz.cpp.

Run once from anywhere: python3 fuzz/make_seeds.py. Frame seeds start with the mode byte the
fuzz target reads (bit 7: client-side parser, bit 6: tiny limit, bits 0-5: split seed).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload=b"", fin=True, masked=True, rsv=0, length=None):
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload) if length is None else length
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n <= 0xFFFF:
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def close(code, reason=b""):
    return frame(0x8, struct.pack(">H", code) + reason)


SERVER = bytes([0x05])  # masked frames expected, 1 KiB limit
CLIENT = bytes([0x80 | 0x11])  # unmasked frames expected
TINY = bytes([0x40 | 0x07])  # 16-byte limit

FRAME_SEEDS = {
    "masked_text": SERVER + frame(0x1, b"Hello"),
    "binary_all_bytes": SERVER + frame(0x2, bytes(range(256))),
    "fragmented_text": SERVER + frame(0x1, b"Hel", fin=False) + frame(0x0, b"lo"),
    "ping_between_fragments": SERVER + frame(0x1, b"\xf0\x9f", fin=False) + frame(0x9, b"p")
    + frame(0x0, b"\x98\x80", fin=False) + frame(0xA, b"") + frame(0x0, b"!"),
    "close_with_code": SERVER + close(1000, b"bye"),
    "close_empty_then_garbage": SERVER + frame(0x8) + b"\xff\xff\xff",
    "close_bad_code": SERVER + close(1005),
    "close_bad_reason": SERVER + close(1000, b"\xce\xba\xe1\xbd"),
    "bad_opcodes": SERVER + frame(0x3, b"x") + frame(0xB, b"y"),
    "rsv_bits": SERVER + frame(0x1, b"x", rsv=0x40),
    "length_16bit": SERVER + frame(0x2, b"a" * 300),
    "length_64bit_nonminimal": SERVER
    + bytes([0x82, 0xFF]) + struct.pack(">Q", 5) + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(b"hello")),
    "length_64bit_top_bit": SERVER + bytes([0x82, 0xFF]) + struct.pack(">Q", 1 << 63) + MASK,
    "too_big_for_tiny_limit": TINY + frame(0x1, b"x" * 10, fin=False) + frame(0x0, b"y" * 10),
    "unmasked_client_frame": SERVER + frame(0x1, b"hi", masked=False),
    "client_mode_unmasked": CLIENT + frame(0x1, b"hi", masked=False) + frame(0x8, struct.pack(">H", 1001), masked=False),
    "invalid_utf8_text": SERVER + frame(0x1, b"ok", fin=False) + frame(0x0, b"\xed\xa0\x80"),
    "control_fragmented": SERVER + frame(0x9, b"", fin=False),
}

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def request(lines, method="GET", target="/cable"):
    return (f"{method} {target} HTTP/1.1\r\n" + "".join(f"{l}\r\n" for l in lines) + "\r\n").encode()


BASE = ["Host: example.com", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13"]

HANDSHAKE_SEEDS = {
    "valid_upgrade": request(BASE),
    "firefox_connection_list": request([l.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade") for l in BASE]),
    "missing_key": request([l for l in BASE if not l.startswith("Sec-WebSocket-Key")]),
    "bad_key": request([l.replace(KEY, "short==") for l in BASE]),
    "bad_version": request([l.replace("Version: 13", "Version: 8") for l in BASE]),
    "with_origin": request(BASE + ["Origin: https://app.example.com"]),
    "with_protocols": request(BASE + ["Sec-WebSocket-Protocol: actioncable-v1-json, actioncable-unsupported"]),
    "repeated_protocols": request(BASE + ["Sec-WebSocket-Protocol: anycable-token.xyz",
                                          "Sec-WebSocket-Protocol: actioncable-v1-json"]),
    "post": request(BASE, method="POST"),
    "plain_http": request(["Host: example.com"]),
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    "glob_pattern_line": b"https://*.example.*\nhttps://app.example.com",
}


def write(folder, seeds):
    path = os.path.join(HERE, "corpus", folder)
    os.makedirs(path, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


write("frame_parser", FRAME_SEEDS)
write("handshake", HANDSHAKE_SEEDS)
