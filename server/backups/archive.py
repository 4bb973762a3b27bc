"""The archive: one age-encrypted file holding a tar stream (manifest, secrets, the database in chunks).

Encryption is age's (pyrage: X25519 recipients, ChaCha20-Poly1305 in 64 KiB authenticated chunks); nothing here
is cryptography of our own. The tar stream is made and read in memory and goes straight into, or comes straight
out of, age: no part of it is ever a plain file. The layout is plain tar so that a restore by hand needs only
standard tools (`age -d -i ID archive | tar -x ...`, see docs/backup-restore.md).
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyrage
from pyrage import x25519

from server import clock

IDENTITY_PREFIX = "AGE-SECRET-KEY-"
RECIPIENT_PREFIX = "age1"
CHUNK = 1 << 20


class ArchiveError(RuntimeError):
    """Something an operator must hear about in plain words (the message says what and what to do)."""


# --- keys ---------------------------------------------------------------------------------------------------


def write_identity(path: Path) -> str:
    """A new X25519 identity written to `path` (0600, never over an existing file), in age's own key-file
    format so that Debian's `age -d -i` reads it too; returns its public recipient."""
    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    text = (f"# created: {clock.now().replace(microsecond=0).isoformat()}\n"
            f"# public key: {recipient}\n{identity}\n")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ArchiveError(f"{path} already exists: an identity is never overwritten (its backups need it)") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return recipient


def read_identities(path: Path) -> list[x25519.Identity]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ArchiveError(f"cannot read the identity {path}: {exc.strerror}") from None
    identities = []
    for line in lines:
        if line.strip().startswith(IDENTITY_PREFIX):
            try:
                identities.append(x25519.Identity.from_str(line.strip()))
            except pyrage.IdentityError:
                raise ArchiveError(f"{path} holds a line that is not an age identity") from None
    if not identities:
        raise ArchiveError(f"{path} holds no age identity ({IDENTITY_PREFIX}...)")
    return identities


def parse_recipients(values: Iterable[str]) -> list[x25519.Recipient]:
    recipients = []
    for value in values:
        try:
            recipients.append(x25519.Recipient.from_str(value))
        except pyrage.RecipientError:
            raise ArchiveError(f"BACKUP_RECIPIENTS holds {value[:12]}..., which is not an age recipient "
                               f"(age1...; `bintang backup-key` prints one)") from None
    if not recipients:
        raise ArchiveError("BACKUP_RECIPIENTS is empty: no backup is written that nobody could read "
                           "(make a key with `bintang backup-key ID_FILE` and set its recipient)")
    return recipients


# --- the tar stream -------------------------------------------------------------------------------------------


def _member(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(clock.now().timestamp())
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


def tar_stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """A tar archive of (name, content) pairs, made as it is read: one member at a time in memory."""
    for name, data in files:
        yield _member(name, len(data))
        yield data
        yield _padding(len(data))
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


class _IteratorReader(io.RawIOBase):
    """A readable file over an iterator of bytes, for age to pull plaintext from. An exception raised by the
    iterator is kept, so the caller sees the real cause rather than age's report of a failed read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        try:
            while not self._buffer:
                self._buffer = next(self._chunks)
        except StopIteration:
            return 0
        except BaseException as exc:
            self.error = exc
            raise
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class _FileWriter(io.RawIOBase):
    """The archive file as age writes it; keeps a failed write's error (a full disk) for the caller."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self._out = out
        self.error: OSError | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        try:
            return self._out.write(data)
        except OSError as exc:
            self.error = exc
            raise


def write_encrypted(path: Path, chunks: Iterator[bytes], recipients: list[x25519.Recipient]) -> int:
    """Encrypt `chunks` to `recipients` into `path` (which must not exist; made 0600, synced to disk). Returns
    its size. On any failure the partial file is removed and the first cause raised."""
    reader = _IteratorReader(chunks)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            writer = _FileWriter(out)
            try:
                pyrage.encrypt_io(reader, writer, recipients)
            except Exception as exc:  # noqa: BLE001 - age reports a failed read or write as its own error
                raise (reader.error or writer.error or exc) from None
            out.flush()
            os.fsync(out.fileno())
        return path.stat().st_size
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@contextmanager
def open_encrypted(path: Path, identities: list[x25519.Identity]) -> Iterator[tarfile.TarFile]:
    """The archive's tar stream, read as it is decrypted (a thread decrypts into a pipe in memory). A wrong
    identity, a changed or cut-off file are errors when reading, never a partial result taken for whole."""
    try:
        source = open(path, "rb")  # noqa: SIM115 - closed by the thread that decrypts it
    except OSError as exc:
        raise ArchiveError(f"cannot read the archive {path}: {exc.strerror}") from None
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def decrypt() -> None:
        try:
            with source, os.fdopen(write_fd, "wb") as sink:
                pyrage.decrypt_io(source, sink, identities)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            failure.append(exc)

    thread = threading.Thread(target=decrypt, name="backup-decrypt", daemon=True)
    thread.start()
    reader = os.fdopen(read_fd, "rb")
    try:
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        except (tarfile.TarError, EOFError, OSError) as exc:
            reader.close()  # a decrypting thread blocked on a full pipe gets EPIPE and ends
            thread.join()
            raise _decrypt_error(failure, path) or ArchiveError(f"{path} is not a whole archive: {exc}") from None
        reader.close()
        thread.join()
        error = _decrypt_error(failure, path)
        if error is not None:
            raise error
    finally:
        reader.close()
        thread.join()


def _decrypt_error(failure: list[BaseException], path: Path) -> ArchiveError | None:
    if not failure:
        return None
    exc = failure[0]
    if isinstance(exc, BrokenPipeError):
        return None  # the reader stopped on purpose; its own error is the one to tell
    if isinstance(exc, pyrage.DecryptError) and "no matching keys" in str(exc).lower():
        return ArchiveError(f"the identity does not open {path.name}: it was encrypted to other recipients")
    return ArchiveError(f"{path.name} cannot be decrypted (changed, cut off or not an age file): {exc}")
