"""Where each observation sits in the MMRM's covariance: visits, coordinates and groups.

One job: map every row to a *slot* of one covariance matrix over slots, and build the
structure over the slots. The likelihood (:mod:`.mmrm`) and Kenward-Roger
(:mod:`.kenward_roger`) then work on slots exactly as on visits.

* Visit-indexed structures (UN, CS, AR(1), Toeplitz, ante-dependence, ...): slot = visit.
* ``"spatial_exp"`` (:mod:`.covariance_spatial`): slot = a distinct coordinate (e.g. the
  observation's own day), so each patient's covariance uses the distances between *that
  patient's* measurements, as SAS PROC MIXED's ``TYPE=SP(EXP)(c)`` does.
* Separate covariance per group (SAS ``REPEATED ... / GROUP=ARMCD``, R mmrm's
  ``us(AVISIT | ARMCD / USUBJID)``): slots are (group, visit) or (group, coordinate) and
  the covariance over slots is block-diagonal, one block with its own parameters per
  group (:class:`GroupedStructure`); patients of different groups share no slot, so the
  REML likelihood is that of SAS's GROUP= model.

Examples
--------
>>> import numpy as np
>>> visits = np.array([0, 1, 0, 1])
>>> lay = make_layout("cs", visits, groups=np.array([0, 0, 1, 1]),
...                   cov_groups=np.array([0, 0, 1, 1]), cov_group_names=["A", "B"])
>>> lay.slots.tolist(), lay.structure.phi_names[:2]
([0, 1, 2, 3], ['A: covariance', 'A: within_variance'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import AnalysisError
from .covariance import Structure, make_structure
from .covariance_spatial import SpatialExp

#: Structures defined over coordinates rather than visits.
SPATIAL = ("spatial_exp",)
#: Above this many distinct coordinates the slot matrices get large: round the
#: coordinates (days are whole numbers) or declare one time per visit.
MAX_SLOTS = 1500


class GroupedStructure(Structure):
    """Block-diagonal covariance: one member structure, with its own parameters, per group.

    ``phi`` and ``theta`` are the members' concatenated in group order; ``phi_names`` are
    prefixed with the group name.
    """

    def __init__(self, members: list[Structure], names: list[str]) -> None:
        sizes = [m.T for m in members]
        super().__init__(int(sum(sizes)))
        self.members = members
        self.name = members[0].name
        self.linear = all(m.linear for m in members)
        self.hetero = bool(getattr(members[0], "hetero", False))
        self.pd_start = getattr(members[0], "pd_start", True)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        ks = [m.k for m in members]
        self.par = np.concatenate([[0], np.cumsum(ks)])
        self.k = int(self.par[-1])
        self.n_cov_params = self.k
        self.phi_names = [f"{g}: {n}" for g, m in zip(names, members) for n in m.phi_names]

    def _assemble(self, parts):
        S = np.zeros((self.T, self.T))
        D = np.zeros((self.k, self.T, self.T))
        for g, (Sg, Dg) in enumerate(parts):
            a, b = self.offsets[g], self.offsets[g + 1]
            S[a:b, a:b] = Sg
            D[self.par[g]:self.par[g + 1], a:b, a:b] = Dg
        return S, D

    def _split(self, x):
        x = np.asarray(x, float)
        return [x[self.par[g]:self.par[g + 1]] for g in range(len(self.members))]

    def _blocks(self, S):
        S = np.asarray(S, float)
        return [S[a:b, a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def sigma_theta(self, theta):
        return self._assemble([m.sigma_theta(t) for m, t in zip(self.members,
                                                                 self._split(theta))])

    def sigma_phi(self, phi):
        return self._assemble([m.sigma_phi(p) for m, p in zip(self.members, self._split(phi))])

    def theta_from_sigma(self, S):
        return np.concatenate([m.theta_from_sigma(b) for m, b in zip(self.members,
                                                                      self._blocks(S))])

    def phi_from_sigma(self, S):
        return np.concatenate([m.phi_from_sigma(b) for m, b in zip(self.members,
                                                                    self._blocks(S))])

    def smallest_correlation_eigenvalue(self, C: np.ndarray) -> float:
        return min(m.smallest_correlation_eigenvalue(b) for m, b in zip(self.members,
                                                                         self._blocks(C)))

    def d2sigma_phi(self, phi) -> np.ndarray:
        d2 = np.zeros((self.k, self.k, self.T, self.T))
        for g, (m, p) in enumerate(zip(self.members, self._split(phi))):
            a, b = self.offsets[g], self.offsets[g + 1]
            s = slice(self.par[g], self.par[g + 1])
            d2[s, s, a:b, a:b] = m.d2sigma_phi(p)
        return d2


@dataclass(frozen=True, eq=False)
class Layout:
    """The slots of one MMRM fit and the structure over them.

    Attributes
    ----------
    structure : Structure
        Over ``n_slots`` slots (a :class:`GroupedStructure` with groups).
    slots : ndarray of int, shape (n,)
        The slot of each row, in the input order.
    slot_group : ndarray of int, shape (n_slots,)
        The group code of each slot (all 0 without groups).
    slot_visit : ndarray of int, shape (n_slots,)
        The visit code of each slot (-1 for spatial structures).
    slot_coordinates : ndarray, shape (n_slots, d) or None
        The coordinate of each slot (spatial structures).
    group_names : tuple of str
        One name per group (``()`` without groups).
    """

    structure: Structure
    slots: np.ndarray
    slot_group: np.ndarray
    slot_visit: np.ndarray
    slot_coordinates: np.ndarray | None
    group_names: tuple[str, ...]

    @property
    def n_slots(self) -> int:
        return int(self.structure.T)

    def group_blocks(self, Sigma: np.ndarray) -> dict[str, np.ndarray]:
        """The covariance matrix of each group (the whole matrix under ``""`` without)."""
        if not self.group_names:
            return {"": np.asarray(Sigma)}
        return {name: np.asarray(Sigma)[np.ix_(self.slot_group == g, self.slot_group == g)]
                for g, name in enumerate(self.group_names)}


def _codes(a, what: str, n: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1 or len(a) != n:
        raise AnalysisError(f"{what} must be a 1-d array with one entry per row ({n})")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise AnalysisError(f"{what} has missing values")
    return np.unique(a, return_inverse=True)[1].ravel()


def make_layout(structure: str, visits, *, groups=None, n_visits: int | None = None,
                coordinates=None, cov_groups=None,
                cov_group_names=None) -> Layout:
    """Slots of each row and the structure over them (see the module docstring).

    Parameters
    ----------
    structure : str
        A structure name (:data:`~.options.STRUCTURES`).
    visits : ndarray of int, shape (n,)
        Visit codes 0..T-1.
    groups : ndarray, shape (n,), optional
        Patient codes (needed with ``coordinates`` or ``cov_groups``, for the checks).
    n_visits : int, optional
        Number of scheduled visits (default ``visits.max() + 1``).
    coordinates : ndarray, shape (n,) or (n, d), optional
        Each row's coordinate for ``"spatial_exp"`` (required there, refused otherwise).
    cov_groups : ndarray, shape (n,), optional
        Group of each row for a separate covariance per group; constant within patient.
    cov_group_names : list of str, optional
        Names of the groups in the order of their sorted codes.

    Raises
    ------
    AnalysisError
        Missing or non-finite coordinates, a patient with two rows at one coordinate or
        in two groups, a group without observations at a visit whose variance the
        structure needs, or more than :data:`MAX_SLOTS` distinct coordinates.
    """
    visits = np.asarray(visits)
    n = len(visits)
    spatial = structure in SPATIAL
    if spatial and coordinates is None:
        raise AnalysisError(f"structure {structure!r} needs the coordinate (time) of every "
                            "observation: pass coordinates=")
    if not spatial and coordinates is not None:
        raise AnalysisError(f"coordinates= is used by {', '.join(SPATIAL)} only, not by "
                            f"structure {structure!r}")
    pid = None if groups is None else _codes(groups, "groups", n)
    if cov_groups is None:
        gcode = np.zeros(n, dtype=np.int64)
        names: tuple[str, ...] = ()
    else:
        gcode = _codes(cov_groups, "cov_groups", n)
        n_g = int(gcode.max()) + 1 if n else 0
        names = tuple(str(s) for s in (cov_group_names if cov_group_names is not None
                                       else range(n_g)))
        if len(names) != n_g:
            raise AnalysisError(f"cov_group_names has {len(names)} names for {n_g} groups")
        if pid is not None:
            per = np.zeros(int(pid.max()) + 1, dtype=np.int64) - 1
            per[pid] = gcode
            if np.any(per[pid] != gcode):
                raise AnalysisError("a patient belongs to two covariance groups; the group "
                                    "(e.g. the arm) must be constant within patient")
    n_groups = int(gcode.max()) + 1 if n else 1
    if spatial:
        c = np.asarray(coordinates, dtype=float)
        c = c.reshape(n, -1) if c.ndim == 1 else c
        if c.ndim != 2 or c.shape[0] != n:
            raise AnalysisError(f"coordinates must have one row per observation ({n}); got "
                                f"shape {np.shape(coordinates)}")
        bad = ~np.all(np.isfinite(c), axis=1)
        if bad.any():
            raise AnalysisError(f"{int(bad.sum())} observation(s) have a missing or "
                                f"non-finite coordinate (first at row {np.flatnonzero(bad)[0]})"
                                f"; {structure} needs the time of every observation")
        keys, slots = np.unique(np.column_stack([gcode, c]), axis=0, return_inverse=True)
        slots = slots.ravel()
        if len(keys) > MAX_SLOTS:
            raise AnalysisError(f"{len(keys)} distinct coordinates (more than {MAX_SLOTS}): "
                                "round them (e.g. to whole days) or give one time per visit")
        slot_group = keys[:, 0].astype(np.int64)
        slot_coord = keys[:, 1:]
        slot_visit = np.full(len(keys), -1)
        if pid is not None:
            key = pid.astype(np.int64) * len(keys) + slots
            u, cnt = np.unique(key, return_counts=True)
            if np.any(cnt > 1):
                row = np.flatnonzero(np.isin(key, u[cnt > 1]))[0]
                raise AnalysisError(
                    f"{int(np.sum(cnt > 1))} patient(s) have two observations at the same "
                    f"coordinate (first: row {row}, coordinate {c[row].tolist()}): "
                    f"{structure} would correlate them perfectly")
        members = [SpatialExp(slot_coord[slot_group == g]) for g in range(n_groups)]
    else:
        T = int(visits.max()) + 1 if n_visits is None else int(n_visits)
        if n and (visits.min() < 0 or visits.max() >= T):
            raise AnalysisError(f"visit codes {int(visits.min())}..{int(visits.max())} are "
                                f"out of range for n_visits = {T} (0..{T - 1})")
        slots = gcode * T + visits.astype(np.int64)
        slot_group = np.repeat(np.arange(n_groups), T)
        slot_visit = np.tile(np.arange(T), n_groups)
        slot_coord = None
        members = [make_structure(structure, T) for _ in range(n_groups)]
        if structure in ("unstructured", "ante1") or getattr(members[0], "hetero", False):
            empty = np.flatnonzero(np.bincount(slots, minlength=T * n_groups) == 0)
            if len(empty):
                where = (f"visit(s) {(empty % T).tolist()}" if not names else "; ".join(
                    f"group {names[g]}: visit(s) {(empty[empty // T == g] % T).tolist()}"
                    for g in np.unique(empty // T)))
                raise AnalysisError(
                    f"{where} have no observations, so their variance cannot be estimated "
                    f"with structure={structure!r}; recode the visits or set n_visits")
    st = members[0] if not names else GroupedStructure(members, list(names))
    return Layout(structure=st, slots=np.asarray(slots, dtype=np.int64),
                  slot_group=np.asarray(slot_group, dtype=np.int64),
                  slot_visit=np.asarray(slot_visit, dtype=np.int64),
                  slot_coordinates=slot_coord, group_names=names)


__all__ = ["GroupedStructure", "Layout", "MAX_SLOTS", "SPATIAL", "make_layout"]
