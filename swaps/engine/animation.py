"""Face swap in every frame of an animation (an animated GIF target).

The source faces are found once. In the frames, faces are found by a full
detection pass only when needed (the first frame, a face lost, and every few
frames while a wanted face is missing or every face is wanted); in between,
each chosen face is followed cheaply (``track.follow``), so the faces keep
their roles from frame to frame instead of being renumbered by size in each.
A frame without the chosen faces passes through unchanged; no face in any
frame is ``NoFaceDetected("target")``. A followed face's glasses, objects in
front of it and (on request) hands are kept in a frame only while most of its
frames so far show them: a find in one frame of many would flicker on and off.

Selection is ``swap_faces``'s own code: the sources are numbered and checked by
``multi.prepare_sources`` (photos image by image, largest first, then saved faces),
pairs follow ``select`` (source k into target k, one source into each target, the
same count check and self-swap defaults), and a reference picks the face
``multi.nearest_face`` finds. What differs is per frame: a frame without the
chosen target faces passes unchanged, and with "all" and several sources a frame
pairs as many faces as it has.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import in_front, multi, occluders, regions, select, shape, track, warp
from .checks import enlargement_warning
from .detect import Timer, find_face_boxes, place_points
from .errors import EngineError, FaceIndexOutOfRange, NoFaceDetected
from .images import as_bgr
from .pipeline import SwapOptions, held_hands, swap_face

SEARCH_EVERY = 1  # frames between detection passes while no chosen face is in view
REFRESH_EVERY = 8  # ... while following some, but a wanted face is missing or all are wanted
SOURCE_HEADROOM = 1.15  # a big source face is shrunk once to this times the target face

TargetIndices = Sequence[int] | Literal["all"] | None
# What a followed face keeps, by option, and the judge that finds it on the target's grid.
_JUDGES: dict[str, Callable[..., np.ndarray | None]] = {
    "keep_glasses": occluders.glasses_mask,
    "keep_occluders": in_front.occluder_mask,
}


@dataclass
class AnimationResult:
    frames: list[np.ndarray]
    faces: dict[str, Any]
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceFace:
    image: np.ndarray
    landmarks: np.ndarray

    @property
    def size(self) -> float:
        return shape.face_fit(self.landmarks).scale

    def shrunk_for(self, target_size: float, opts: SwapOptions) -> SourceFace:
        """This face cut out and shrunk once to a little above ``target_size``, if every
        frame would otherwise shrink (prefilter) the whole source again."""
        scale = SOURCE_HEADROOM * target_size / self.size
        if scale >= opts.prefilter_below:
            return self
        points, size = shape.extend_landmarks(self.landmarks, opts.forehead)
        outline = points[shape.OUTLINE]
        x0, y0 = np.maximum(0, np.floor(outline.min(axis=0) - 0.3 * size)).astype(int)
        x1, y1 = np.ceil(outline.max(axis=0) + 0.3 * size).astype(int)
        x1, y1 = min(x1, self.image.shape[1]), min(y1, self.image.shape[0])
        region = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
        image, landmarks = warp.prefilter_source(self.image, self.landmarks, region, scale)
        return SourceFace(image, landmarks)


@dataclass
class _Plan:
    """Who goes where: resolved once, before the frames."""

    sources: dict[int, SourceFace] | None  # by face number; None: the frame's own faces
    source_indices: list[int] | None  # None only for a frame's own faces, "all"
    target_indices: list[int] | None  # None: every face in the frame
    n_source: int
    reference: np.ndarray | None = None  # descriptor of the reference face

    def pairs(self, keys: Sequence[int]) -> list[tuple[int, int]]:
        """(source, target) pairs; targets are keys of the followed faces."""
        if self.target_indices is not None:
            return select.pair(self.source_indices, self.target_indices)
        if self.sources is None:  # a frame's own faces, "all": each takes the next one's
            src, dst = select.self_swap_defaults(self.source_indices, list(keys))
            return [(s, t) for s, t in zip(src, dst, strict=False) if s != t]
        if len(self.source_indices) == 1:
            return select.pair(self.source_indices, list(keys))
        # "all" with several sources: as many pairs as this frame has faces.
        return list(zip(self.source_indices, keys, strict=False))

    def wanted(self) -> list[int] | None:
        """Face numbers (in a frame) to follow; None = all."""
        if self.target_indices is None:
            return None
        extra = self.source_indices if self.sources is None else None
        extra = extra or []
        return sorted(set(self.target_indices) | set(extra))


def swap_animation(
    frames: Sequence[np.ndarray],
    durations_ms: Sequence[int] | None = None,
    *,
    sources: Sequence[np.ndarray] = (),
    identities: Sequence[Any] = (),
    source_indices: Sequence[int] | None = None,
    target_indices: TargetIndices = None,
    reference_bgr: np.ndarray | None = None,
    options: SwapOptions | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> AnimationResult:
    """Swap faces in every frame (BGR uint8, one size); durations are only checked.

    ``identities``: saved faces (anything with ``crop`` and ``landmarks``).
    ``on_frame(done)``: told after each frame, for progress reports.
    """
    begin = time.perf_counter()
    opts = options or SwapOptions()
    timer = Timer({"detect": 0.0, "landmarks": 0.0, "track": 0.0, "warp": 0.0, "blend": 0.0})
    images = _check_frames(frames, durations_ms)
    plan = _plan(sources, identities, source_indices, target_indices, reference_bgr, opts, timer)
    runner = _Runner(plan, opts, timer)
    out = []
    for i, image in enumerate(images):
        out.append(runner.frame(image, i))
        if on_frame is not None:
            on_frame(i + 1)
    faces = runner.report(len(out))
    timer.add("total", begin)
    return AnimationResult(frames=out, faces=faces, timings_ms=timer.ms)


def _check_frames(
    frames: Sequence[np.ndarray], durations_ms: Sequence[int] | None
) -> list[np.ndarray]:
    if len(frames) == 0:
        raise EngineError("invalid_option", "the animation has no frames", {"image": "target"})
    if durations_ms is not None and len(durations_ms) != len(frames):
        raise EngineError("invalid_option", "one duration per frame is needed", {"image": "target"})
    images = [as_bgr(f, "target") for f in frames]
    if any(im.shape != images[0].shape for im in images):
        raise EngineError("invalid_option", "frames differ in size", {"image": "target"})
    return images


def _plan(
    sources: Sequence[np.ndarray],
    identities: Sequence[Any],
    source_indices: Sequence[int] | None,
    target_indices: TargetIndices,
    reference_bgr: np.ndarray | None,
    opts: SwapOptions,
    timer: Timer,
) -> _Plan:
    own = not sources and not identities
    src = list(source_indices) if source_indices is not None else None
    tgt = None if target_indices in (None, "all") else list(target_indices)
    if own and target_indices == "all":
        return _Plan(None, src, None, 0)  # paired per frame (each face takes the next one's)
    if own:
        src, tgt = select.self_swap_defaults(src, tgt)
    src, tgt = src or [0], (tgt or [0]) if target_indices != "all" else None
    if tgt is not None:
        select.pair(src, tgt)  # FaceCountMismatch before any frame is read
    reference = None
    if reference_bgr is not None:
        reference = multi.reference_descriptor(reference_bgr, opts, timer)
        tgt = [0]  # the nearest face, chosen per detection pass
    if own:
        return _Plan(None, src, tgt, 0, reference)
    prepared = multi.prepare_sources(sources, identities, opts, timer)
    chosen = {index: SourceFace(*prepared.face(index, timer)) for index in src}
    return _Plan(chosen, src, tgt, prepared.count, reference)


class _Runner:
    """Frame-by-frame state: the followed faces and what was seen."""

    def __init__(self, plan: _Plan, opts: SwapOptions, timer: Timer) -> None:
        self.plan, self.opts, self.timer = plan, opts, timer
        self.tracks: dict[int, track.Track] = {}
        self.last_pass = -math.inf
        self.most_faces = 0
        self.frames_swapped = 0
        self.first_pairs: list[list[int]] | None = None
        self.lost = False
        self.sources_fitted = False
        self.chosen_reference: dict[str, Any] | None = None
        self.warnings: dict[tuple[int, int], dict[str, Any] | None] = {}
        # Per target face and kept thing: frames it was found in, frames judged.
        self.seen: dict[tuple[int, str], list[int]] = {}

    def frame(self, image: np.ndarray, i: int) -> np.ndarray:
        self._follow(image)
        if self._pass_due(i):
            self._detect(image, i)
        pairs = [(s, t) for s, t in self.plan.pairs(sorted(self.tracks)) if t in self.tracks]
        pairs = [(s, t) for s, t in pairs if self.plan.sources is not None or s in self.tracks]
        if not pairs:
            return image
        if self.first_pairs is None:
            self.first_pairs = [[int(s), int(t)] for s, t in pairs]
        self.frames_swapped += 1
        return self._swap(image, pairs)

    def _follow(self, image: np.ndarray) -> None:
        start = time.perf_counter()
        followed = {k: track.follow(image, t) for k, t in self.tracks.items()}
        self.tracks = {k: t for k, t in followed.items() if t is not None}
        self.lost = len(followed) > len(self.tracks)
        self.timer.add("track", start)

    def _pass_due(self, i: int) -> bool:
        wanted = self.plan.wanted()
        complete = wanted is not None and all(k in self.tracks for k in wanted)
        if self.lost or not self.tracks:
            every = 1 if self.lost else SEARCH_EVERY
        else:
            every = math.inf if complete else REFRESH_EVERY
        return i - self.last_pass >= every

    def _detect(self, image: np.ndarray, i: int) -> None:
        self.last_pass = i
        start = time.perf_counter()
        boxes = find_face_boxes(image, self.opts.detect_pixels)
        start = self.timer.add("detect", start)
        self.most_faces = max(self.most_faces, len(boxes))
        self.tracks = self._select(image, boxes)
        if self.tracks and self.plan.sources is not None and not self.sources_fitted:
            largest = max(shape.face_fit(t.landmarks).scale for t in self.tracks.values())
            self.plan.sources = {
                k: f.shrunk_for(largest, self.opts) for k, f in self.plan.sources.items()
            }
            self.sources_fitted = True
        self.timer.add("landmarks", start)

    def _select(self, image: np.ndarray, rects: list[Any]) -> dict[int, track.Track]:
        if self.plan.reference is not None:
            return self._select_reference(image, rects)
        wanted = self.plan.wanted()
        keys = range(len(rects)) if wanted is None else wanted
        if not rects or max(keys, default=-1) >= len(rects):
            return {}
        return {k: track.Track(rects[k], place_points(image, rects[k])) for k in keys}

    def _select_reference(self, image: np.ndarray, rects: list[Any]) -> dict[int, track.Track]:
        if not rects:
            return {}
        marks = [place_points(image, r) for r in rects]
        nearest = multi.nearest_face(image, marks, self.plan.reference, self.timer)
        if self.chosen_reference is None:
            self.chosen_reference = nearest
        return {0: track.Track(rects[nearest["index"]], marks[nearest["index"]])}

    def _swap(self, image: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
        out = image
        for s, t in pairs:
            if self.plan.sources is None:
                source, src_marks = image, self.tracks[s].landmarks
            else:
                face = self.plan.sources[s]
                source, src_marks = face.image, face.landmarks
            if (s, t) not in self.warnings:  # judged once, on the pair's first frame
                dst_marks = self.tracks[t].landmarks
                self.warnings[s, t] = enlargement_warning(src_marks, dst_marks, s, t)
            opts = self._options_for(image, t)
            held = self._hands_for(image, t)
            try:
                out = swap_face(
                    source, src_marks, out, self.tracks[t].landmarks, opts, self.timer, held
                )
            except EngineError as exc:  # e.g. the face has left the frame
                if exc.code != "face_outside_image":
                    raise
        return out

    def _options_for(self, image: np.ndarray, t: int) -> SwapOptions:
        """The options for target face ``t`` in this frame (``image``, before any
        swap): its glasses and the objects in front of it are kept only if found
        here and in most of its frames so far."""
        asked = [name for name in _JUDGES if getattr(self.opts, name)]
        if not asked:
            return self.opts
        face, points, iod = regions.target_grid(
            image, self.tracks[t].landmarks, self.opts.analysis_face_px, self.opts.forehead
        )
        dropped = {
            name: False
            for name in asked
            if not self._voted(t, name, _JUDGES[name](face, points, iod) is not None)
        }
        return dataclasses.replace(self.opts, **dropped) if dropped else self.opts

    def _hands_for(self, image: np.ndarray, t: int) -> list[np.ndarray] | None:
        """Target face ``t``'s hands in this frame (``held_hands``, image pixels),
        by the same vote as its glasses; None when hands are not asked for."""
        if not self.opts.keep_hands:
            return None
        held = held_hands(image, self.tracks[t].landmarks, self.opts)
        return held if self._voted(t, "keep_hands", bool(held)) else []

    def _voted(self, t: int, name: str, found: bool) -> bool:
        """Is ``name`` found in this frame and in most of face ``t``'s frames so far?"""
        seen = self.seen.setdefault((t, name), [0, 0])
        seen[0], seen[1] = seen[0] + found, seen[1] + 1
        return found and 2 * seen[0] > seen[1]

    def report(self, n_frames: int) -> dict[str, Any]:
        if self.most_faces == 0:
            raise NoFaceDetected("target")
        if self.frames_swapped == 0:
            wanted = self.plan.wanted() or [0]
            raise FaceIndexOutOfRange("target", max(wanted), self.most_faces)
        plan = self.plan
        faces: dict[str, Any] = {
            "source": plan.n_source if plan.sources is not None else self.most_faces,
            "target": self.most_faces,
            "swapped": self.first_pairs or [],
            "frames": n_frames,
            "frames_swapped": self.frames_swapped,
        }
        if self.chosen_reference is not None:
            faces["reference"] = self.chosen_reference
            faces["swapped"] = [[s, self.chosen_reference["index"]] for s, _ in faces["swapped"]]
        warnings = [warning for warning in self.warnings.values() if warning is not None]
        for warning in warnings if self.chosen_reference is not None else ():
            warning["target"] = self.chosen_reference["index"]
        if warnings:
            faces["warnings"] = warnings
        return faces
