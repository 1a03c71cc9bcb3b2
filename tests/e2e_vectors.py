#!/usr/bin/env python3
# e2e_vectors.py — derives the known-answer values of doc/protocol.md §7 that
# tests/test_e2e_crypto.cc checks, independently of libjim: Python's `cryptography` package
# (X25519, HKDF-SHA256, ChaCha20-Poly1305). Not run by `make check`; run it by hand:
#   python3 tests/e2e_vectors.py
# The X25519 results and the HKDF key were also checked with the openssl command line:
#   openssl pkeyutl -derive -inkey esk.pem -peerkey r_pub.pem   (both X25519 halves)
#   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:IKM -kdfopt hexsalt:00..00 \
#       -kdfopt hexinfo:INFO HKDF
import base64
import hashlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def public(k):
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


S = X25519PrivateKey.from_private_bytes(bytes(range(0x01, 0x21)))
R = X25519PrivateKey.from_private_bytes(bytes(range(0x21, 0x41)))
E = X25519PrivateKey.from_private_bytes(bytes(range(0x41, 0x61)))
s_pub, r_pub, epk = public(S), public(R), public(E)
ikm = E.exchange(R.public_key()) + S.exchange(R.public_key())
info = b"jim-e2e-v1" + s_pub + r_pub + epk
key = HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(ikm)
sender, recipient, text = "alice", "bob", "hello bob \u00e9"
aad = sender.encode() + b"\0" + recipient.encode()
envelope = epk + ChaCha20Poly1305(key).encrypt(bytes(12), text.encode(), aad)
fp = hashlib.sha256(s_pub).hexdigest()[:32]

print("s_pub   ", base64.b64encode(s_pub).decode())
print("r_pub   ", base64.b64encode(r_pub).decode())
print("epk     ", epk.hex())
print("dh1     ", ikm[:32].hex())
print("dh2     ", ikm[32:].hex())
print("key     ", key.hex())
print("message ", base64.b64encode(envelope).decode())
print("fp(S)   ", " ".join(fp[i:i + 4] for i in range(0, 32, 4)))
