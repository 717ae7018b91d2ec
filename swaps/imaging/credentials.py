"""C2PA Content Credentials: a signed manifest saying this service made and altered the image.

Pure (no Django): swaps.content_credentials picks the signing identity from the settings.
The manifest holds two actions, `c2pa.created` and `c2pa.edited`, both with the IPTC
digital source type "composite with trained algorithmic media" (an AI face swap in a
photo), and no thumbnail (it would add ~1 MB and a copy of the picture for nothing).
Signing is local: no timestamp authority, no network.

Without a configured certificate the service makes its own at first start: a small CA
(ca.pem, kept for verifiers to trust) and a signing certificate it issued (chain.pem,
key.pem). C2PA refuses a self-signed signing certificate, hence the two.
"""

from __future__ import annotations

import datetime
import io
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

AI_COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_VALID_DAYS = 3650
# An 8x8 PNG, for checking at start-up that a signer signs.
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00Km)"
    b"\xdc\x00\x00\x00\x14IDATx\x9cc<Q\x11\xc0\x80\r0a\x15\x1d\xb4\x12\x00<\xef\x01\xa0\x04\xb6\xc9}"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
_EC_ALGS = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # the signing certificate first, then its issuers
    key_pem: bytes
    alg: str  # es256, es384, es512, ps256 or ed25519


# --------------------------------------------------------------------------- identities


def algorithm_for(key_pem: bytes) -> str:
    """The C2PA signing algorithm a private key signs with; ValueError for other keys."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGS:
        return _EC_ALGS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return "ps256"
    raise ValueError("the C2PA key must be EC P-256/384/521, Ed25519 or RSA >= 2048")


def load_identity(cert_path: Path, key_path: Path) -> SigningIdentity:
    key_pem = key_path.read_bytes()
    return SigningIdentity(cert_path.read_bytes(), key_pem, algorithm_for(key_pem))


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(subject: x509.Name, issuer: x509.Name, public: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )


def make_identity(*, organisation: str) -> tuple[SigningIdentity, bytes]:
    """A new CA and a signing certificate it issued: (identity, the CA's PEM)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} content credentials CA", organisation)
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signs_certificates=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _certificate(
            _name(f"{organisation} content credentials", organisation), ca_name, key.public_key()
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ca_pem = ca.public_bytes(pem)
    return SigningIdentity(leaf.public_bytes(pem) + ca_pem, key_pem, "es256"), ca_pem


def local_identity(folder: Path, *, organisation: str) -> SigningIdentity:
    """This installation's own identity in ``folder``, made at first start.

    Written to a temporary folder, then renamed into place: of processes starting
    together, one rename wins and every process signs with the winner's key.
    """
    if not (folder / "key.pem").exists():
        _make_local_identity(folder, organisation)
    return load_identity(folder / "chain.pem", folder / "key.pem")


def _make_local_identity(folder: Path, organisation: str) -> None:
    identity, ca_pem = make_identity(organisation=organisation)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    try:
        (staging / "ca.pem").write_bytes(ca_pem)
        (staging / "chain.pem").write_bytes(identity.chain_pem)
        fd = os.open(staging / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(identity.key_pem)
        os.rename(staging, folder)
    except OSError:
        if not (folder / "key.pem").exists():
            raise  # not a lost race: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- signing


def manifest(*, generator: str, version: str, note: str) -> dict[str, Any]:
    agent = {"name": generator, "version": version}
    return {
        "claim_generator_info": [agent],
        "title": f"{generator} result",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": AI_COMPOSITE,
                            "softwareAgent": agent,
                            "description": f"Made by {generator} from photos its user uploaded.",
                        },
                        {
                            "action": "c2pa.edited",
                            "digitalSourceType": AI_COMPOSITE,
                            "softwareAgent": agent,
                            "description": note,
                        },
                    ]
                },
            }
        ],
    }


class ContentCredentials:
    """Signs images with one identity; made once per process and reused for every result."""

    def __init__(self, identity: SigningIdentity, *, generator: str, version: str, note: str):
        info = c2pa.C2paSignerInfo(identity.alg, identity.chain_pem, identity.key_pem, None)
        self._signer = c2pa.Signer.from_info(info)
        self._settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        self._manifest = manifest(generator=generator, version=version, note=note)

    def sign(self, data: bytes, fmt: str) -> bytes:
        """``data`` with the signed manifest embedded; c2pa.C2paError if it cannot be."""
        builder = c2pa.Builder(self._manifest, c2pa.Context(settings=self._settings))
        out = io.BytesIO()
        builder.sign(self._signer, MIME_TYPES[fmt], io.BytesIO(data), out)
        return out.getvalue()


def read_credentials(
    data: bytes, fmt: str, *, trust_pem: bytes | None = None
) -> dict[str, Any] | None:
    """The active manifest and validation state ("Invalid", "Valid", "Trusted") of an
    image, None without credentials; with ``trust_pem``, its certificates are trusted."""
    context = None
    if trust_pem is not None:
        trust = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": trust_pem.decode()}}
        context = c2pa.Context(settings=c2pa.Settings.from_dict(trust))
    reader = c2pa.Reader.try_create(MIME_TYPES[fmt], io.BytesIO(data), context=context)
    if reader is None:
        return None
    with reader:
        return {"state": reader.get_validation_state(), "manifest": reader.get_active_manifest()}
