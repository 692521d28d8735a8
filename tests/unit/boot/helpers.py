"""Real FAT images (mkfs.vfat + mcopy) of the CM4 boot files, and a real P-256 signer, for the boot tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from softscm.module.boot.partition import mtools_env
from softscm.module.crypto.keys import PublicKey
from softscm.wire.defs import DEFAULT_CM4_FILES, KeyType

IMAGE_KIB = 4096


def boot_files() -> dict[str, bytes]:
    """Deterministic stand-ins for the CM4 boot files (about 1.7 MiB in all)."""
    sizes = {"kernel8.img": 1 << 20, "initrd.img": 600_000, "start4.elf": 70_000, "bcm2711-rpi-cm4.dtb": 50_000,
             "bootcode.bin": 52_000, "overlays/vc4-kms-v3d.dtbo": 3_000}
    files = {}
    for path in DEFAULT_CM4_FILES:
        if path == "cmdline.txt":
            files[path] = b"console=serial0,115200 root=/dev/mmcblk0p2 rootwait\n"
        elif path == "config.txt":
            files[path] = b"[all]\narm_64bit=1\nkernel=kernel8.img\n"
        else:
            seed = path.encode()
            block = (seed * (4096 // len(seed) + 1))[:4096]
            files[path] = (block * (sizes[path] // 4096 + 1))[: sizes[path]]
    return files


def make_image(path: Path, files: dict[str, bytes], staging: Path) -> Path:
    """A FAT image holding ``files``, made by mkfs.vfat and filled by mcopy."""
    subprocess.run(["mkfs.vfat", "-C", str(path), str(IMAGE_KIB)], check=True, capture_output=True)
    env = mtools_env()
    for directory in sorted({p.rsplit("/", 1)[0] for p in files if "/" in p}):
        subprocess.run(["mmd", "-i", str(path), f"::/{directory}"], check=True, capture_output=True, env=env)
    for name, data in files.items():
        source = staging / name.replace("/", "_")
        source.write_bytes(data)
        subprocess.run(["mcopy", "-i", str(path), str(source), f"::/{name}"], check=True, capture_output=True, env=env)
    return path


def make_directory(path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path


class P256Signer:
    """A real P-256 key signing a 32-byte digest, raw r||s, as the module's slot keys do."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint)

    def __call__(self, digest: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    @property
    def verifier(self) -> Callable[[bytes, bytes], None]:
        return PublicKey(KeyType.NISTP256, self.public).verify
