"""The half of the volume workbench that writes the store: polygons, grow, boxes, fill between slices,
accepting, rejecting and re-classing regions. Each edit is one undoable command (``workbench.commands``)
pushed through the workbench's ``_push``; the region before and after is all a command keeps."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from datasets import projection
from datasets.errors import XwbError
from datasets.regions import Region
from datasets.voxel_edit import fill_between, grow, paint
from workbench.commands import AddRegion, Batch, DeleteRegion, ReplaceRegion
from workbench.volume.display import plane_axes

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtCore import SignalInstance

    from datasets.stores import ImageRecord
    from workbench.session import Session
    from workbench.volume.display import VolumeDisplay
    from workbench.volume.plane import PlaneView

TITLES = {"z": "axial", "y": "coronal", "x": "sagittal"}


class VolumeEdits:
    """Mixed into ``VolumeWorkbench``; what it uses of it is declared here."""

    session: Session
    image: ImageRecord | None
    disp: VolumeDisplay | None
    regions: list[Region]
    selected: int | None
    class_id: int
    tolerance: float
    last_axis: str
    views: dict[str, PlaneView]
    message: SignalInstance
    _poly_axis: str

    @property
    def _iid(self) -> int:
        assert self.image is not None
        return self.image.id

    if TYPE_CHECKING:  # the workbench's own
        def _push(self, cmd) -> bool: ...
        def _target(self) -> Region | None: ...
        def select(self, region_id: int | None) -> None: ...
        def set_class(self, class_id: int) -> None: ...

    def _close_polygon(self) -> None:
        import cv2

        axis = self._poly_axis
        v = self.views.get(axis)
        if v is None or len(v.outline) < 3 or self.disp is None:
            if v is not None:
                v.outline = []
                v.update()
            return
        pts = np.array([(c, r) for r, c in v.outline], np.float64)
        v.outline = []
        c0, r0 = np.floor(pts.min(axis=0)).astype(int)
        c1, r1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        m = np.zeros((r1 - r0, c1 - c0), np.uint8)
        cv2.fillPoly(m, [np.rint(pts - (c0, r0)).astype(np.int32)], 1)
        before = self._target()
        after = paint(before, self.disp.shape, axis, self.disp.cursor[projection.AXIS[axis]], m.astype(bool),
                      int(c0), int(r0), add=True, class_id=self.class_id, source="manual", author=self.session.author) \
            if before is None else paint(before, self.disp.shape, axis, self.disp.cursor[projection.AXIS[axis]],
                                         m.astype(bool), int(c0), int(r0), add=True)
        self.last_axis = axis
        if after is None:
            return
        if before is None:
            cmd = AddRegion(self.session, self._iid, self.session.edited(after), "polygon on a slice")
            if self._push(cmd):
                self.select(cmd.region_id)
        else:
            self._push(ReplaceRegion(self.session, self._iid, before, self.session.edited(after),
                                     "polygon on a slice"))

    def _grow_at(self, z: int, y: int, x: int) -> None:
        assert self.disp is not None
        seed = self.disp.value_at(z, y, x)
        tol = self.tolerance / (self.disp.rescale[0] or 1.0)
        vol = self.disp.volume
        got = grow(vol, (z, y, x), seed - tol, seed + tol)
        if got is None:
            return
        vox, (gx, gy, gz) = got
        region = Region(self.class_id, voxels=vox, mask_x=gx, mask_y=gy, mask_z=gz, source="manual",
                        author=self.session.author)
        cmd = AddRegion(self.session, self._iid, region, "grow from seed")
        if self._push(cmd):
            self.select(cmd.region_id)
            self.message.emit(f"grown {int(vox.sum())} voxels around ({x}, {y}, {z}) within ±{self.tolerance:g} HU")

    def add_box(self, axis: str, r0: float, c0: float, r1: float, c1: float) -> int | None:
        """A 3-D box from a rectangle on a slice (whole voxels, both corners included); its depth along the
        slice's axis is the rectangle's shorter side, centred on the slice."""
        assert self.disp is not None
        ra, ca = plane_axes(axis)
        # whole voxels, both corners' voxels included
        lo = {ra: int(np.floor(min(r0, r1))), ca: int(np.floor(min(c0, c1)))}
        hi = {ra: int(np.floor(max(r0, r1))) + 1, ca: int(np.floor(max(c0, c1))) + 1}
        if min(hi[ra] - lo[ra], hi[ca] - lo[ca]) < 2:
            return None
        depth = min(hi[ra] - lo[ra], hi[ca] - lo[ca])
        lo[axis] = self.disp.cursor[projection.AXIS[axis]] - depth // 2
        hi[axis] = lo[axis] + depth
        shape = dict(zip("zyx", self.disp.shape))
        b = [float(max(0, lo[a])) for a in "xyz"] + [float(min(shape[a], hi[a])) for a in "xyz"]
        try:
            region = Region(self.class_id, box=np.array(b), source="manual", author=self.session.author)
        except XwbError as e:
            self.message.emit(str(e))
            return None
        cmd = AddRegion(self.session, self._iid, region, "3-D box")
        if self._push(cmd):
            self.select(cmd.region_id)
            return cmd.region_id
        return None

    def fill_between(self, axis: str | None = None) -> int:
        """Interpolate the selected voxel region (else the current class's largest) between its drawn slices
        along ``axis`` (default: the view drawn in last); the count of slices filled."""
        if self.image is None:
            return 0
        axis = axis or self.last_axis
        r = next((r for r in self.regions if r.id == self.selected and r.voxels is not None), None) or max(
            (r for r in self.regions if r.voxels is not None and r.class_id == self.class_id),
            key=lambda r: r.area(), default=None)
        if r is None:
            self.message.emit("fill between slices: draw the object on two or more slices first")
            return 0
        try:
            after, n = fill_between(r, axis)
        except XwbError as e:
            self.message.emit(str(e))
            return 0
        if n == 0:
            self.message.emit(f"fill between slices: no gap between the drawn {axis} slices")
            return 0
        if self._push(ReplaceRegion(self.session, self._iid, r, self.session.edited(after),
                                    f"fill {n} slices between")):
            self.message.emit(f"filled {n} {TITLES[axis]} slices between the drawn ones")
        return n

    def accept_proposals(self) -> int:
        if self.image is None:
            return 0
        props = [r for r in self.regions if r.state == "proposal"]
        if not props:
            self.message.emit("no proposals on this volume")
            return 0
        cmds = [ReplaceRegion(self.session, self._iid, r, self.session.decided(r, "accepted"), "accept")
                for r in props]
        if self._push(Batch(self.session, self._iid, cmds, f"accept {len(cmds)} proposals")):
            self.message.emit(f"accepted {len(cmds)} proposals")
        return len(cmds)

    def delete_selected(self) -> None:
        """Del: the selected region deleted; a proposal rejected and kept (the model's false alarm)."""
        r = next((r for r in self.regions if r.id == self.selected), None)
        if r is None or self.image is None or self.session.readonly:
            return
        if r.state == "proposal":
            self._push(ReplaceRegion(self.session, self._iid, r, self.session.decided(r, "rejected"),
                                     "reject proposal"))
        elif r.state == "accepted":
            self.selected = None
            self._push(DeleteRegion(self.session, self._iid, r))

    def reclass(self, class_id: int) -> None:
        """The selected region becomes ``class_id`` (a class hotkey with a region selected)."""
        self.set_class(class_id)
        r = next((r for r in self.regions if r.id == self.selected), None)
        if r is not None and self.image is not None and r.class_id != class_id:
            self._push(ReplaceRegion(self.session, self._iid, r, self.session.edited(r, class_id=class_id),
                                     "change class"))

    def accept_selected(self) -> None:
        r = next((r for r in self.regions if r.id == self.selected), None)
        if r is not None and self.image is not None and r.state in ("proposal", "rejected"):
            self._push(ReplaceRegion(self.session, self._iid, r, self.session.decided(r, "accepted"),
                                     "accept proposal"))
