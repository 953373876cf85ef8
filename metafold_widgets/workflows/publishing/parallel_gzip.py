"""Deflate on every core, as pigz does: standard gzip (and zip member) streams, compressed block by block.

A stream is cut into blocks of :data:`BLOCK_SIZE`. Each block is compressed on a thread
pool (zlib releases the GIL) with a raw deflate compressor primed with the last 32 KiB of
the block before it, so matches across the cut are kept, and ended with ``Z_SYNC_FLUSH``
(the last block with ``Z_FINISH``): the blocks put end to end are one valid deflate stream
that any inflater reads. A block whose sample does not shrink (already-compressed images,
archives, random data) is written as stored deflate blocks instead of being compressed
again, and one where repeated strings save next to nothing (noisy raw pixels) at level 1,
which gives such data the same size as level 6 several times faster. The CRC-32 and the
size are counted in order on the calling thread.

What is written goes through :class:`OrderedOutput`, a bounded queue of finished or pending
pieces written strictly in order, so memory stays the same whatever the stream's length:
about ``2 x workers`` blocks in flight.
"""
from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Union

BLOCK_SIZE = 512 << 10         # uncompressed bytes per block compressed on its own
WINDOW = 32 << 10              # deflate's window: the dictionary a block is primed with
SEGMENT_SIZE = 64 << 10        # part of a block judged on its own (a block may mix kinds of data)
SAMPLE_SIZE, SAMPLES = 4096, 4  # what is tried at level 1 to tell whether data shrinks
SHRINK_RATIO = 0.95            # a sample that does not get at least 5% smaller is stored
MATCH_GAIN = 0.03              # repeated strings saving less than 3% over Huffman alone: level 1 suffices
_GZIP_OS_UNKNOWN = 255

Piece = Union[bytes, "Future[bytes]", Callable[[], bytes]]
"""What :class:`OrderedOutput` writes: bytes, a compression under way, or a late piece (made when its turn comes)."""


def default_workers() -> int:
    """Compression threads: one per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def compression_pool(workers: int | None = None) -> ThreadPoolExecutor:
    """A thread pool for :class:`DeflateStream` (its threads only compress)."""
    return ThreadPoolExecutor(max_workers=workers or default_workers(), thread_name_prefix="metafold-deflate")


class OrderedOutput:
    """Writes pieces strictly in the order they were put, keeping at most ``max_pending`` waiting.

    ``position`` is the number of bytes written so far; a late piece (a callable) runs when
    every piece before it is written, so it can read ``position`` (a zip member's offset
    and compressed size are known only then).
    """

    def __init__(self, write: Callable[[bytes], Any], max_pending: int):
        self._write = write
        self.max_pending = max(1, max_pending)
        self.position = 0
        self._queue: deque[Piece] = deque()

    def put(self, piece: Piece) -> None:
        """Queue ``piece``; writes the oldest ones first when the queue is full."""
        self._queue.append(piece)
        while len(self._queue) > self.max_pending:
            self._emit(self._queue.popleft())

    def drain(self) -> None:
        """Write everything queued."""
        while self._queue:
            self._emit(self._queue.popleft())

    def cancel(self) -> None:
        """Drop what is queued without writing it (after a failure)."""
        for piece in self._queue:
            if isinstance(piece, Future):
                piece.cancel()
        self._queue.clear()

    def _emit(self, piece: Piece) -> None:
        if isinstance(piece, Future):
            data = piece.result()
        elif callable(piece):
            data = piece()
        else:
            data = piece
        if data:
            self._write(data)
            self.position += len(data)


class DeflateStream:
    """One raw deflate stream, compressed block by block on ``pool`` into ``output``.

    ``write`` the data, then ``finish()``; ``crc`` and ``size`` are the CRC-32 and the
    length of what was written (what gzip's and zip's trailers need).
    """

    def __init__(self, output: OrderedOutput, pool: ThreadPoolExecutor, level: int, block_size: int = BLOCK_SIZE):
        self.output = output
        self.pool = pool
        self.level = level
        self.block_size = block_size
        self.crc = 0
        self.size = 0
        self._buffer = bytearray()
        self._window = b""

    def write(self, data: Any) -> int:
        """Add ``data`` (bytes-like) to the stream; returns its length."""
        count = len(data) if isinstance(data, (bytes, bytearray)) else memoryview(data).nbytes
        self.crc = zlib.crc32(data, self.crc)
        self.size += count
        self._buffer += data
        while len(self._buffer) > self.block_size:  # '>': the last block is never empty
            block = bytes(self._buffer[:self.block_size])
            del self._buffer[:self.block_size]
            self._submit(block, last=False)
        return count

    def finish(self) -> None:
        """Compress what is left as the last block (it carries deflate's end mark)."""
        block = bytes(self._buffer)
        self._buffer = bytearray()
        self._submit(block, last=True)

    def _submit(self, block: bytes, last: bool) -> None:
        self.output.put(self.pool.submit(deflate_block, block, self._window, self.level, last))
        self._window = (self._window + block)[-WINDOW:] if len(block) < WINDOW else block[-WINDOW:]


def deflate_block(block: bytes, window: bytes, level: int, last: bool) -> bytes:
    """``block`` as raw deflate data primed with ``window``.

    The block is judged in segments of :data:`SEGMENT_SIZE` (a tar stream mixes tables,
    images and raw pixels in one block), and each run of segments of one kind is
    compressed at the level :func:`segment_level` picks, with the 32 KiB before it as
    dictionary: still one deflate stream.
    """
    view = memoryview(block)
    parts = []
    runs = _runs(view, level)
    for number, (start, end, run_level) in enumerate(runs):
        dictionary = bytes(view[start - WINDOW:start]) if start >= WINDOW else (window + bytes(view[:start]))[-WINDOW:]
        if dictionary:
            compressor = zlib.compressobj(run_level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=dictionary)
        else:
            compressor = zlib.compressobj(run_level, zlib.DEFLATED, -zlib.MAX_WBITS)
        ending = zlib.Z_FINISH if last and number == len(runs) - 1 else zlib.Z_SYNC_FLUSH
        parts.append(compressor.compress(view[start:end]))
        parts.append(compressor.flush(ending))
    return b"".join(parts)


def _runs(view: memoryview, level: int) -> list[tuple[int, int, int]]:
    """``(start, end, level)`` for the runs of segments that get the same level."""
    runs: list[tuple[int, int, int]] = []
    for start in range(0, max(len(view), 1), SEGMENT_SIZE):
        end = min(start + SEGMENT_SIZE, len(view))
        segment = segment_level(view[start:end], level)
        if runs and runs[-1][2] == segment:
            runs[-1] = (runs[-1][0], end, segment)
        else:
            runs.append((start, end, segment))
    return runs


def segment_level(segment: bytes | memoryview, level: int) -> int:
    """The level worth spending on ``segment``, judged on a sample: effort only where it pays.

    0 (stored) when the sample does not shrink at level 1; 1 when repeated strings save
    almost nothing over Huffman coding alone (noisy pixels, measured signals: higher
    levels search for matches in vain, several times slower for no smaller output);
    otherwise ``level`` as asked.
    """
    if level <= 1:
        return level
    sample = _sample(segment, 1)
    if len(sample) < 64:
        return level
    fast = _raw_size(sample, 1, zlib.Z_DEFAULT_STRATEGY)
    if fast >= SHRINK_RATIO * len(sample):
        return 0
    if _raw_size(sample, 1, zlib.Z_HUFFMAN_ONLY) - fast < MATCH_GAIN * len(sample):
        return 1
    return level


def shrinks(data: bytes | memoryview) -> bool:
    """Whether ``data`` gets at least 5% smaller at level 1, judged on a few samples spread over it."""
    return sample_shrinks(_sample(data, SAMPLES))


def sample_shrinks(sample: bytes) -> bool:
    """Whether ``sample`` (what :func:`sample_spans` picks) gets at least 5% smaller at level 1."""
    if len(sample) < 64:
        return True  # too little to judge; deflate costs nothing here
    return _raw_size(sample, 1, zlib.Z_DEFAULT_STRATEGY) < SHRINK_RATIO * len(sample)


def sample_spans(length: int, count: int = SAMPLES) -> list[tuple[int, int]]:
    """``(start, end)`` of the ``count`` pieces of :data:`SAMPLE_SIZE` spread evenly over ``length`` bytes."""
    if length <= SAMPLE_SIZE * count:
        return [(0, length)]
    if count == 1:
        middle = (length - SAMPLE_SIZE) // 2
        return [(middle, middle + SAMPLE_SIZE)]
    step = (length - SAMPLE_SIZE) // (count - 1)
    return [(i * step, i * step + SAMPLE_SIZE) for i in range(count)]


def _sample(data: bytes | memoryview, count: int) -> bytes:
    """``count`` pieces of :data:`SAMPLE_SIZE` spread evenly over ``data`` (all of it when short)."""
    return b"".join(data[start:end] for start, end in sample_spans(len(data), count))


def _raw_size(data: bytes, level: int, strategy: int) -> int:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8, strategy)
    return len(compressor.compress(data)) + len(compressor.flush())


class ParallelGzipWriter:
    """A file-like object that writes a standard gzip file (one member) compressed on all cores.

    ``sink`` receives the compressed bytes in order. ``close()`` writes the trailer (it
    does not close ``sink``); ``abort()`` stops without writing more.

    With ``raw``, only the deflate data is written (no gzip header, no trailer): the body of
    a gzip member whose head and trailer the caller writes (see :mod:`.tar_head`).
    """

    def __init__(self, sink: Any, *, level: int = 6, workers: int | None = None, filename: str = "",
                 mtime: int = 0, block_size: int = BLOCK_SIZE, raw: bool = False):
        count = workers or default_workers()
        self.pool = compression_pool(count)
        self.output = OrderedOutput(sink.write, max_pending=2 * count + 2)
        self.stream = DeflateStream(self.output, self.pool, level, block_size)
        self.raw = raw
        if not raw:
            self.output.put(gzip_header(filename, mtime, level))
        self.closed = False

    def write(self, data: Any) -> int:
        return self.stream.write(data)

    def tell(self) -> int:
        """Uncompressed bytes written so far (what ``tarfile`` asks)."""
        return self.stream.size

    def flush(self) -> None:
        """Nothing to do: blocks are written when they are full (and at ``close``)."""

    def close(self) -> None:
        """Compress the rest and write the gzip trailer (CRC-32, size modulo 2**32)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.stream.finish()
            if not self.raw:
                self.output.put(struct.pack("<II", self.stream.crc & 0xFFFFFFFF, self.stream.size & 0xFFFFFFFF))
            self.output.drain()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Drop what is pending; nothing more is written."""
        self.closed = True
        self.output.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)


def gzip_header(filename: str, mtime: int, level: int) -> bytes:
    """A gzip member header like Python's ``gzip`` module writes (name kept when it is Latin-1)."""
    try:
        name = filename.encode("latin-1")
    except UnicodeEncodeError:
        name = b""
    flags = 0x08 if name else 0
    extra = 2 if level == 9 else 4 if level == 1 else 0
    header = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, flags, mtime & 0xFFFFFFFF, extra, _GZIP_OS_UNKNOWN)
    return header + (name + b"\0" if name else b"")


_STORED_MAX = 0xFFFF  # bytes in one stored deflate block


def stored_deflate(data: bytes) -> bytes:
    """``data`` as non-final stored deflate blocks: its exact length is known in advance
    (:func:`stored_deflate_size`), and a deflate stream may go on right after it."""
    parts = []
    for start in range(0, len(data), _STORED_MAX):
        block = data[start:start + _STORED_MAX]
        parts.append(struct.pack("<BHH", 0, len(block), len(block) ^ 0xFFFF) + block)
    return b"".join(parts)


def stored_deflate_size(size: int) -> int:
    """The length of :func:`stored_deflate` of ``size`` bytes."""
    return size + 5 * -(-size // _STORED_MAX)


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's crc32_combine)."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return (crc1 ^ crc2) & 0xFFFFFFFF


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]
