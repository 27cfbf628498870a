"""Aliased columns of a fixed-effects design: found, dropped, and which contrasts survive.

A design is rank deficient when a column is a linear combination of earlier ones: an
arm-by-visit column when one arm has no value at that visit, a covariate level present
in one arm only together with an interaction, a covariate collinear with another (age in
years and in months). R's ``lm`` and ``mmrm`` (and lme4, which drops the columns before
fitting) then keep the earlier columns and report the later ones as aliased
(coefficient ``NA``); so does :func:`find_aliased`, with the same rule: a QR
decomposition with R's *limited* column pivoting (LINPACK ``dqrdc2``, tolerance
``1e-7`` on the column norms), which moves a column to the end only when it lies within
that tolerance of the span of the columns before it. Columns are therefore dropped in
formula order, never by size.

The model is fitted on the kept columns; :meth:`Aliasing.expand` puts the fit back in
the full column space with zeros for the aliased coefficients (one solution of the
normal equations). A contrast ``L beta`` is *estimable* when ``L`` lies in the row space
of the design, i.e. ``L N = 0`` for a basis ``N`` of the design's null space (Searle,
Linear Models, 1971, ch. 5; the test of R's ``estimability`` package that emmeans
uses). Estimable contrasts have the same estimate and standard error whichever columns
are dropped; the others (an arm's mean at a visit where it has no data) have no
estimate and are reported as missing (:meth:`Aliasing.estimable`).

Golden values: ``tests/reference/model_terms/`` (``lm`` aliasing, lme4 + emmeans with
the non-estimable means, ``nlme::gls`` on the kept columns), checked in
``tests/test_model_terms.py``.

Examples
--------
>>> import numpy as np
>>> X = np.column_stack([np.ones(4), [0, 1, 0, 1], [0, 2, 0, 2]])
>>> al = find_aliased(X, ["(Intercept)", "x", "2x"])
>>> al.aliased_names
('2x',)
>>> al.estimable(np.array([[1, 0, 0], [0, 1, 2], [0, 1, 0]])).tolist()
[True, True, False]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg

if TYPE_CHECKING:  # the engine's result imports this module
    from .engine import EngineFit
    from .kenward_roger import KenwardRoger

#: Tolerance of R's ``qr()`` (LINPACK ``dqrdc2``), which ``lm`` and ``mmrm`` use: a
#: column whose distance from the span of the earlier columns is below this fraction
#: of its norm is aliased.
ALIAS_TOL = 1e-7
#: A contrast is estimable when ``|L N|`` is below this fraction of ``|L|`` (N an
#: orthonormal null-space basis); emmeans' ``estimability::nonest.basis`` uses 1e-8 on
#: an equivalent scale; the looser value allows for the rounding of a QR of scaled
#: columns.
ESTIMABLE_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Aliasing:
    """Which columns of a design are kept, which are aliased, and its null space.

    Attributes
    ----------
    names : tuple of str
        Every column, in design order.
    keep : ndarray of int
        Indices of the columns fitted.
    aliased : ndarray of int
        Indices of the aliased (dropped) columns.
    null_basis : ndarray, shape (p, len(aliased))
        Orthonormal basis of the null space of the design.
    """

    names: tuple[str, ...]
    keep: np.ndarray
    aliased: np.ndarray
    null_basis: np.ndarray

    @property
    def aliased_names(self) -> tuple[str, ...]:
        """Names of the aliased columns."""
        return tuple(self.names[j] for j in self.aliased)

    @property
    def any(self) -> bool:
        """Whether any column is aliased."""
        return len(self.aliased) > 0

    def message(self) -> str:
        """The warning a fit with aliased columns carries (empty when there are none)."""
        if not self.any:
            return ""
        return (f"the fixed-effects design is rank deficient: column(s) "
                f"{', '.join(self.aliased_names)} are linear combinations of earlier "
                "columns (aliased) and were dropped, as R's lm and mmrm do; their "
                "coefficients are not estimable (missing), and so is any mean or "
                "difference that depends on them")

    def estimable(self, L) -> np.ndarray:
        """Whether each row of ``L`` (shape (m, p) or (p,)) is an estimable contrast."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        if not self.any:
            return np.ones(L.shape[0], dtype=bool)
        size = np.sqrt(np.einsum("ij,ij->i", L, L))
        off = np.sqrt(np.sum((L @ self.null_basis) ** 2, axis=1))
        return off <= ESTIMABLE_TOL * np.maximum(size, 1.0)

    def _pad(self, a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        """``a`` with the kept indices of ``axes`` spread over every column (zeros between)."""
        p = len(self.names)
        out = np.zeros([p if i in axes else n for i, n in enumerate(a.shape)])
        out[np.ix_(*[self.keep if i in axes else np.arange(n)
                     for i, n in enumerate(a.shape)])] = a
        return out

    def expand(self, fit: EngineFit) -> EngineFit:
        """``fit`` (of the kept columns) in the full column space: aliased coefficients 0,
        their rows and columns of ``vcov`` and ``jac_vcov`` 0, and ``aliasing`` set so
        that its contrasts report non-estimable rows as missing."""
        if not self.any:
            return dataclasses.replace(fit, aliasing=self)
        return dataclasses.replace(
            fit, beta=self._pad(np.asarray(fit.beta), (0,)),
            vcov=self._pad(np.asarray(fit.vcov), (0, 1)),
            jac_vcov=(self._pad(np.asarray(fit.jac_vcov), (1, 2)) if fit.jac_vcov.size
                      else np.zeros((0, len(self.names), len(self.names)))),
            aliasing=self)

    def reduce(self, fit: EngineFit) -> EngineFit:
        """The fit of the kept columns back from :meth:`expand` (for computations such as
        Kenward-Roger that need a full-rank design)."""
        k = self.keep
        return dataclasses.replace(
            fit, beta=np.asarray(fit.beta)[k], vcov=np.asarray(fit.vcov)[np.ix_(k, k)],
            jac_vcov=(np.asarray(fit.jac_vcov)[:, k][:, :, k] if fit.jac_vcov.size
                      else fit.jac_vcov), aliasing=None)

    def expand_kenward_roger(self, kr: KenwardRoger) -> KenwardRoger:
        """A Kenward-Roger adjustment of the kept columns in the full column space."""
        if not self.any:
            return kr
        return dataclasses.replace(
            kr, beta=self._pad(kr.beta, (0,)), vcov=self._pad(kr.vcov, (0, 1)),
            vcov_adjusted=self._pad(kr.vcov_adjusted, (0, 1)), P=self._pad(kr.P, (1, 2)))


def find_aliased(X, names) -> Aliasing:
    """The aliased columns of ``X`` (R's rule: see the module docstring).

    Parameters
    ----------
    X : array_like, shape (n, p)
    names : sequence of str
        One per column.

    Returns
    -------
    Aliasing
    """
    X = np.asarray(X, dtype=float)
    names = tuple(str(n) for n in names)
    p = X.shape[1]
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    scale = np.where(norms > 0, norms, 1.0)
    # an unpivoted QR: |R_jj| is the distance of column j from the span of columns < j
    # (dropped columns add nothing to that span), which is dqrdc2's test
    r = np.linalg.qr(X / scale, mode="r") if X.shape[0] >= p else \
        np.linalg.qr(np.vstack([X / scale, np.zeros((p - X.shape[0], p))]), mode="r")
    aliased = (np.abs(np.diag(r)) < ALIAS_TOL) | (norms == 0)
    keep = np.flatnonzero(~aliased)
    drop = np.flatnonzero(aliased)
    if len(drop) == 0:
        return Aliasing(names, keep, drop, np.zeros((p, 0)))
    # X_drop = X_keep B (on the scaled columns, through R: X = Q R): the null space is
    # spanned by e_drop - B e_keep, rescaled to the unscaled columns
    B = linalg.lstsq(r[:, keep], r[:, drop])[0]
    N = np.zeros((p, len(drop)))
    N[keep] = -B
    N[drop, np.arange(len(drop))] = 1.0
    N = N / scale[:, None]
    basis, _ = np.linalg.qr(N)
    return Aliasing(names, keep, drop, basis)


__all__ = ["Aliasing", "find_aliased", "ALIAS_TOL"]
