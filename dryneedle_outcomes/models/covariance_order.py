"""The residual covariance of an MMRM by a pre-specified order: the first structure that
converges with a positive-definite estimate is used, and why each earlier one was not.

Statistical analysis plans of trials with repeated measures pre-specify the MMRM's
covariance as an ordered list, unstructured first, then simpler structures if it does not
converge (Mallinckrodt et al., Drug Inf J 2008;42:303-319; the FDA/EMA practice, after
ICH E9, of fixing the primary analysis, its fallback included, before unblinding).
:func:`fit_in_order` fits the structures of such a list in turn and keeps the first
acceptable fit; :func:`attempts_frame` records every structure of the order (structure,
tried, converged, used, reason), and :func:`order_sentence` says it in one sentence for
the methods notes.

A fit is acceptable when the engine's checks pass (:func:`~..stats.mixed.mmrm.fit_mmrm`:
the gradient is zero, the Hessian of the REML deviance is positive definite and the
estimated covariance matrix is positive definite, not on the boundary) and the
covariance of the variance parameters, which the degrees of freedom need, exists.

Examples
--------
>>> order = covariance_order(["unstructured", "toeplitz_hetero"])
>>> order
('unstructured', 'toeplitz_hetero')
>>> covariance_order("cs")
('cs',)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..stats.mixed.engine import EngineFit
from ..stats.mixed.options import COVARIANCES

_NOT_FITTED = "could not be fitted"
#: The columns of :func:`attempts_frame`.
ATTEMPT_COLUMNS = ["structure", "tried", "converged", "used", "reason"]


def covariance_order(covariance: str | Sequence[str]) -> tuple[str, ...]:
    """The structures to try, in order: one name, or a non-empty list of distinct names.

    Raises
    ------
    AnalysisError
        If a name is not one of :data:`~..stats.mixed.options.COVARIANCES`, the list is
        empty or names a structure twice.
    """
    order = (covariance,) if isinstance(covariance, str) else tuple(covariance)
    allowed = ", ".join(COVARIANCES)
    if not order:
        raise AnalysisError(f"covariance must name one structure or a list of them "
                            f"({allowed}), got an empty list")
    for name in order:
        if name not in COVARIANCES:
            close = difflib.get_close_matches(str(name), COVARIANCES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise AnalysisError(f"covariance must be one of {allowed} (or a list of them, "
                                f"tried in order), got {name!r}{hint}")
    if len(set(order)) < len(order):
        raise AnalysisError(f"covariance names a structure twice: {list(order)}")
    return order


def failure_reason(fit: EngineFit) -> str | None:
    """Why ``fit`` is not acceptable (None when it is): the engine's problems at its best
    optimum, or the missing covariance of the variance parameters."""
    if not fit.converged:
        tried = [a for a in fit.attempts if np.isfinite(a["deviance"])] or fit.attempts
        best = min(tried, key=lambda a: a["deviance"])
        return "; ".join(best["problems"]) or best["message"]
    if not np.all(np.isfinite(fit.cov_varpar)):
        return ("the covariance of the variance parameters is unavailable (Hessian not "
                "positive definite)")
    return None


def attempts_frame(records: Sequence[dict]) -> pd.DataFrame:
    """Every structure of the order, one row each: ``structure``, ``tried``, ``converged``,
    ``used`` and ``reason`` (why it was not acceptable, or not tried; "" for the structure
    used when it converged)."""
    frame = pd.DataFrame([{"tried": True, **r} for r in records], columns=ATTEMPT_COLUMNS)
    return frame.astype({"tried": bool, "converged": bool, "used": bool})


def fit_in_order(fit_one: Callable[[str], EngineFit],
                 order: Sequence[str]) -> tuple[EngineFit, str, pd.DataFrame]:
    """Fit the structures of ``order`` in turn; keep the first acceptable fit.

    Parameters
    ----------
    fit_one : callable
        ``fit_one(structure) -> EngineFit``.
    order : sequence of str
        The structures, in the pre-specified order.

    Returns
    -------
    fit, structure, attempts
        The fit used, its structure and :func:`attempts_frame` of every structure of
        ``order`` (those after the one used are not tried). One structure is fitted as
        it is, acceptable or not (a non-converged fit keeps its warnings). When none of
        several is acceptable, the last one that could be fitted is used (not
        converged) and its messages say that none converged.

    Raises
    ------
    AnalysisError
        When one structure raises it, or every structure of several raises one.
    """
    if len(order) == 1:
        fit = fit_one(order[0])
        reason = failure_reason(fit)
        if reason is not None and len(COVARIANCES) > 1:
            fit.messages.append(
                "a statistical analysis plan pre-specifies what replaces a structure that "
                "does not converge: give the order, e.g. covariance=[\"unstructured\", "
                "\"toeplitz_hetero\", \"ar1_hetero\", \"cs_hetero\"], rather than "
                "choosing one after seeing this result")
        return fit, order[0], attempts_frame([{
            "structure": order[0], "converged": reason is None, "used": True,
            "reason": reason or ""}])
    records: list[dict] = []
    last: tuple[EngineFit, str] | None = None
    for structure in order:
        try:
            fit = fit_one(structure)
        except AnalysisError as exc:
            records.append({"structure": structure, "converged": False, "used": False,
                            "reason": f"{_NOT_FITTED}: {exc}"})
            continue
        reason = failure_reason(fit)
        records.append({"structure": structure, "converged": reason is None, "used": False,
                        "reason": reason or ""})
        last = (fit, structure)
        if reason is None:
            break
    if last is None:
        raise AnalysisError("none of the pre-specified covariance structures could be "
                            "fitted: " + "; ".join(f"{r['structure']}: {r['reason']}"
                                                   for r in records))
    fit, structure = last
    for r in records:
        r["used"] = r["structure"] == structure
    records += [{"structure": s, "tried": False, "converged": False, "used": False,
                 "reason": f"not tried: {structure} converged first"}
                for s in order[len(records):]]
    if failure_reason(fit) is not None:
        fit.messages.insert(0, "none of the pre-specified covariance structures "
                               f"({', '.join(order)}) converged; the last, {structure}, "
                               "is reported: see .covariance_attempts")
    return fit, structure, attempts_frame(records)


def order_sentence(attempts: pd.DataFrame) -> str | None:
    """The methods sentence on a pre-specified order (None for a single structure).

    Examples
    --------
    >>> frame = attempts_frame([
    ...     {"structure": "unstructured", "converged": False, "used": False,
    ...      "reason": "the Hessian is singular"},
    ...     {"structure": "toeplitz_hetero", "converged": True, "used": True, "reason": ""}])
    >>> print(order_sentence(frame).split(": ", 1)[1])
    unstructured did not converge (the Hessian is singular); toeplitz_hetero used, as pre-specified.
    """
    if len(attempts) < 2:
        return None
    order = list(attempts["structure"])
    parts = [f"{r.structure} could not be fitted ({r.reason[len(_NOT_FITTED) + 2:]})"
             if r.reason.startswith(_NOT_FITTED) else
             f"{r.structure} did not converge ({r.reason})"
             for r in attempts.itertuples() if r.tried and not r.used]
    used = attempts[attempts["used"]].iloc[0]
    parts.append(f"{used.structure} used, as pre-specified" if used.converged
                 else f"{used.structure} used, although it did not converge either "
                      f"({used.reason})")
    return (f"Covariance pre-specified as the first of {', '.join(order)} that converges "
            f"with a positive-definite estimate: {'; '.join(parts)}.")


__all__ = ["ATTEMPT_COLUMNS", "attempts_frame", "covariance_order", "failure_reason",
           "fit_in_order", "order_sentence"]
