"""The result store: diskcache underneath, with checksums, per-key locks and a size bound.

Guarantees, each tested in ``tests/cache``:

- **content-addressed**: keys come from :func:`cache.keys.make_key`;
- **no pickle**: values are bytes made by a :class:`~cache.codecs.Codec`;
- **compute once**: concurrent ``get_or_compute`` calls for one key, from threads or
  processes, take an OS file lock per key; the first computes, the others wait and read.
  The OS drops the lock when a process dies, so a killed worker blocks nobody;
- **no partial entries**: an entry becomes visible only when diskcache commits its row,
  after the value is fully written; a crash before that leaves nothing readable;
- **corruption is detected**: every entry carries a SHA-256 of its payload; a mismatch
  deletes the entry and counts as a miss, so it is recomputed, never served;
- **bounded**: diskcache evicts least-recently-used entries past ``size_limit``.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import diskcache

from cache.codecs import CODECS, Codec

T = TypeVar("T")

_MAGIC = b"LOUPE\x01"
_DIGEST = 32
DEFAULT_SIZE_LIMIT = 4 * 2**30  # bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched(Generic[T]):
    """A value from :meth:`ResultStore.get_or_compute` and whether the cache served it."""

    value: T
    from_cache: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """Size and health of a store: entries, bytes used, bytes allowed, corrupt entries dropped."""

    entries: int
    volume_bytes: int
    size_limit_bytes: int
    corrupt_dropped: int


def _wrap(codec: Codec, payload: bytes) -> bytes:
    name = codec.name.encode()
    digest = hashlib.sha256(name + b"\0" + payload).digest()
    return _MAGIC + digest + bytes([len(name)]) + name + payload


def _unwrap(blob: bytes) -> tuple[str, bytes] | None:
    """(codec name, payload) of a stored entry, or None if it is not intact."""
    head = len(_MAGIC) + _DIGEST
    if not isinstance(blob, bytes) or len(blob) < head + 1 or not blob.startswith(_MAGIC):
        return None
    digest = blob[len(_MAGIC) : head]
    name_length = blob[head]
    name = blob[head + 1 : head + 1 + name_length]
    payload = blob[head + 1 + name_length :]
    if hashlib.sha256(name + b"\0" + payload).digest() != digest:
        return None
    return name.decode(), payload


class ResultStore:
    """A bounded, content-addressed store of analysis results in ``directory``."""

    def __init__(self, directory: Path, *, size_limit_bytes: int = DEFAULT_SIZE_LIMIT) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_dir = self.directory / "locks"
        self._lock_dir.mkdir(exist_ok=True)
        self._cache = diskcache.Cache(
            str(self.directory / "entries"),
            size_limit=size_limit_bytes,
            eviction_policy="least-recently-used",
            cull_limit=16,
        )
        self._corrupt_dropped = 0

    def get(self, key: str, codec: Codec) -> Any | None:
        """The decoded value for ``key``, or None when absent or corrupt (then dropped)."""
        blob = self._cache.get(key, default=None, read=False)
        if blob is None:
            return None
        unwrapped = _unwrap(blob)
        if unwrapped is None or unwrapped[0] != codec.name:
            self._drop_corrupt(key)
            return None
        try:
            return codec.decode(unwrapped[1])
        except Exception:  # noqa: BLE001  (an undecodable entry is corruption, not a bug)
            self._drop_corrupt(key)
            return None

    def contains(self, key: str) -> bool:
        """Whether an intact-looking entry exists (cheap: does not verify the checksum)."""
        return key in self._cache

    def versions(self, keys: Iterable[str]) -> dict[str, str]:
        """Each present key -> a token that changes whenever its entry changes; absent keys are left out.

        Cheap: one index query per 500 keys, no value read or decoded, no access time updated. The
        token is the entry's SHA-256 for values kept in the index (small ones) and the name of the
        value's file otherwise (every store writes a new file). It does not verify the checksum.
        """
        wanted = list(dict.fromkeys(keys))
        head = len(_MAGIC) + 1  # SQLite counts from 1
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._cache._sql(  # diskcache's own table: key, raw (str keys are raw), value or filename
                "SELECT key, CASE WHEN filename IS NULL THEN hex(substr(value, ?, ?)) ELSE filename END, size"
                f" FROM Cache WHERE raw = 1 AND key IN ({','.join('?' * len(chunk))})",
                (head, _DIGEST, *chunk),
            ).fetchall()
            found |= {key: f"{token}:{size}" for key, token, size in rows}
        return found

    def fingerprint(self) -> str:
        """A token that changes whenever any entry is stored, replaced or removed (reading leaves it alone).

        Cheap: one query over the index (entry count, newest store time, total size), no value read.
        """
        count, newest, total = self._cache._sql("SELECT COUNT(*), MAX(store_time), TOTAL(size) FROM Cache").fetchone()
        return f"{count}:{newest!r}:{total!r}"

    def put(self, key: str, value: Any, codec: Codec) -> None:
        """Store ``value``; visible to readers only once completely written."""
        if codec.name not in CODECS:
            raise ValueError(f"unknown codec {codec.name!r}")
        self._cache.set(key, _wrap(codec, codec.encode(value)))

    def get_or_compute(self, key: str, compute: Callable[[], T], codec: Codec) -> Fetched[T]:
        """The cached value, or ``compute()`` stored then returned; computed at most once."""
        cached = self.get(key, codec)
        if cached is not None:
            return Fetched(value=cached, from_cache=True)
        with self.key_lock(key):
            cached = self.get(key, codec)  # another worker may have finished meanwhile
            if cached is not None:
                return Fetched(value=cached, from_cache=True)
            value = compute()
            self.put(key, value, codec)
        return Fetched(value=value, from_cache=False)

    @contextmanager
    def key_lock(self, key: str) -> Iterator[None]:
        """An exclusive OS lock for one key, across threads and processes."""
        path = self._lock_dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")
        handle = open(path, "a+b")  # noqa: SIM115  (held for the block's duration)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def delete(self, key: str) -> bool:
        """Remove one entry; True if it existed."""
        return bool(self._cache.delete(key))

    def stats(self) -> CacheStats:
        return CacheStats(
            entries=len(self._cache),
            volume_bytes=int(self._cache.volume()),
            size_limit_bytes=int(self._cache.size_limit),
            corrupt_dropped=self._corrupt_dropped,
        )

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        return int(self._cache.clear())

    def close(self) -> None:
        self._cache.close()

    def _drop_corrupt(self, key: str) -> None:
        self._corrupt_dropped += 1
        self._cache.delete(key)
