"""Which source face goes into which target face: index lists, "all", defaults.

Faces are numbered largest first in each image; the faces of several source
images are numbered together, image by image. Source face k goes into target
face k; a single source face goes into every listed target face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from .errors import EngineError, FaceCountMismatch, FaceIndexOutOfRange

ALL = "all"
Indices = Sequence[int] | Literal["all"] | None
Pairs = list[tuple[int, int]]


def _invalid(message: str, **details: object) -> EngineError:
    return EngineError("invalid_option", message, dict(details))


def parse_indices(value: str | int | Sequence[int] | None, name: str = "target") -> Indices:
    """``"0,1"``, ``"all"``, ``3`` or ``[0, 1]`` -> a list or ``"all"``; None stays None.

    For the CLI and the web layer, which receive indices as text. Range checks
    happen later, when the faces are known.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text == ALL:
            return ALL
        try:
            return [int(part) for part in text.split(",")]
        except ValueError:
            raise _invalid(
                f"{name} face indices must be a comma list of integers or 'all'", image=name
            ) from None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return [int(value)]
    return _as_int_list(value, name)


def _as_int_list(values: Sequence[int], name: str) -> list[int]:
    out = list(values)
    if not out or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in out):
        raise _invalid(f"the {name} face indices must be a non-empty list of integers", image=name)
    return [int(v) for v in out]


def _expand(indices: Indices, count: int, name: str) -> list[int] | None:
    if indices is None:
        return None
    if isinstance(indices, str):
        if indices != ALL:
            raise _invalid(f"the {name} face indices must be a list or 'all'", image=name)
        return list(range(count))
    return _as_int_list(indices, name)


def _rotated(indices: list[int]) -> list[int]:
    return indices[1:] + indices[:1]


def self_swap_defaults(src: list[int] | None, dst: list[int] | None) -> tuple[list[int], list[int]]:
    """Faces of one photo trade places: the given list rotated by one (0,1 -> 1,0;
    'all' -> each face gets the next one's), the two largest by default."""
    if src is None and dst is None:
        return [0, 1], [1, 0]
    if src is None:
        return _rotated(dst), dst
    return src, (_rotated(src) if dst is None else dst)


def _check_range(indices: list[int], count: int, image: str) -> None:
    for index in indices:
        if not 0 <= index < count:
            raise FaceIndexOutOfRange(image, index, count)


def pair(src: list[int], dst: list[int]) -> Pairs:
    """Source face k into target face k; one source face into each target face."""
    if len(src) == len(dst):
        return list(zip(src, dst, strict=True))
    if len(src) == 1:
        return [(src[0], t) for t in dst]
    raise FaceCountMismatch(
        f"{len(src)} source faces cannot go into {len(dst)} target faces: "
        "give one source face, or one for each target face",
        {"source": len(src), "target": len(dst)},
    )


def plan_pairs(
    source: Indices,
    target: Indices,
    n_source: int,
    n_target: int,
    *,
    self_swap: bool = False,
    source_image: str = "source",
) -> Pairs:
    """The (source index, target index) pairs to swap, checked against the counts.

    ``self_swap``: the sources are the target's own faces; a face never goes
    into itself (such pairs are dropped).
    """
    src, dst = _expand(source, n_source, "source"), _expand(target, n_target, "target")
    if self_swap:
        src, dst = self_swap_defaults(src, dst)
    src, dst = src or [0], dst or [0]
    _check_range(src, n_source, source_image)
    _check_range(dst, n_target, "target")
    if len(set(dst)) != len(dst):
        raise _invalid("each target face may be listed only once", image="target")
    pairs = pair(src, dst)
    if self_swap:
        pairs = [(s, t) for s, t in pairs if s != t]
        if not pairs:
            raise _invalid("nothing to swap: each face would get itself back", image="target")
    return pairs
