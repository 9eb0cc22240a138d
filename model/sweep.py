"""Monte Carlo sweeps of the pipeline on Dask (``dask.distributed``).

Each draw takes the scenario's demand and samples what is uncertain about it: whether each
prospective enterprise lands (its landing probability), when (its arrival year moves a year
earlier or later), and how large it is (a log-normal factor); trend demand is drawn afresh.
Committed enterprises always land where and when announced. Every draw is then allocated, and
the draws are summarised as P10/P50/P90 of what remains per zone, resource and year, and the
probability that the zone runs short.

Draw k uses ``np.random.default_rng(SeedSequence(seed).spawn(n)[k])``: the same seed gives the
same draws whatever the number of workers or the order they finish in.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .allocation import PlanningInputs, allocate
from .errors import InputError
from .forecast import (
    build_demand,
    demand_by_sector,
    land_balance,
    prepare_inputs,
    reserved_grid_use,
    reserved_step_accounting,
)
from .scenario import Scenario

if TYPE_CHECKING:
    from dask.distributed import Client, LocalCluster

#: what the draws vary, and by how much
ARRIVAL_SHIFT_P = {-1: 0.25, 0: 0.5, 1: 0.25}
SIZE_SIGMA = 0.2


@dataclass
class Sweep:
    scenario: Scenario
    draws: int
    balance_quantiles: pd.DataFrame
    shortfall_probability: pd.DataFrame
    unmet_quantiles: pd.DataFrame
    per_draw: pd.DataFrame
    input_files: list
    workers: int
    scheduler: str
    timings_s: dict = field(default_factory=dict)


def sample_pipeline(pipeline: pd.DataFrame, rng: np.random.Generator, first_year: int) -> pd.DataFrame:
    """One draw of the named pipeline: who lands, when, how large (committed ones unchanged)."""
    ent = pipeline.copy()
    free = ~ent["committed"].to_numpy(dtype=bool)
    lands = rng.random(len(ent)) < ent["landing_probability"].to_numpy()
    shifts = rng.choice(list(ARRIVAL_SHIFT_P), size=len(ent), p=list(ARRIVAL_SHIFT_P.values()))
    size = np.exp(rng.normal(0.0, SIZE_SIGMA, size=len(ent)))
    keep = ~free | lands
    ent.loc[free, "arrival_year"] = np.maximum(ent.loc[free, "arrival_year"].to_numpy() + shifts[free], first_year)
    ent.loc[free, "floor_area_m2"] = (ent.loc[free, "floor_area_m2"].to_numpy() * size[free]).round(-1)
    ent.loc[free, "power_mw"] = ent.loc[free, "power_mw"].to_numpy() * size[free]
    ent.loc[free, "min_plot_m2"] = ent.loc[free, "min_plot_m2"].to_numpy() * size[free]
    ent["landing_probability"] = 1.0  # landing is now decided
    return ent[keep].reset_index(drop=True)


def run_draw(base: PlanningInputs, pipeline: pd.DataFrame, profiles: pd.DataFrame, scenario: Scenario,
             seed: np.random.SeedSequence, draw: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Allocate one draw (runs on a Dask worker). Returns its land balance, demand by sector and a summary."""
    rng = np.random.default_rng(seed)
    demand = build_demand(scenario, pipeline, profiles, rng)
    demand = sample_pipeline(demand, rng, scenario.year_range[0])
    inputs = PlanningInputs(base.sites, demand, base.hubs, base.zone_power, base.supply_chain, base.capacity_steps)
    update = {**scenario.sweep_allocation, "weight_by_landing_probability": False, "threads": 1}
    settings = scenario.allocation.model_copy(update=update)
    started = time.perf_counter()
    alloc = allocate(inputs, settings, explain=False)
    balance = land_balance(alloc).assign(draw=draw)
    # the shortfall probability judges reserved grid steps as the early warning does
    judged = reserved_step_accounting(balance, reserved_grid_use(base.zone_power, alloc.site_use),
                                      scenario.early_warning.reserved_steps_counted_share)
    balance["remaining_share"] = judged["remaining_share"].to_numpy()
    dem = demand_by_sector(alloc, scenario).assign(draw=draw)
    info = dict(draw=draw, enterprises=len(demand), placed=len(alloc.assigned), status=alloc.status,
                gap=alloc.gap, solve_s=round(time.perf_counter() - started, 3))
    return balance, dem, info


def summarise(balances: pd.DataFrame, demands: pd.DataFrame, threshold: float
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """P10/P50/P90 of what remains, the probability of a shortfall, and P10/P50/P90 of unmet demand."""
    keys = ["year", "zone", "resource"]
    q = balances.groupby(keys)["remaining"].quantile([0.1, 0.5, 0.9]).unstack()
    q.columns = ["remaining_p10", "remaining_p50", "remaining_p90"]
    released = balances.groupby(keys)["released"].median().rename("released_p50")
    quantiles = pd.concat([released, q], axis=1).reset_index()
    short = balances.assign(short=(balances["released"] > 0) & (balances["remaining_share"] < threshold))
    prob = short.groupby(keys)["short"].mean().rename("shortfall_probability").reset_index()
    u = demands.groupby(["year", "sector"])["unmet_m2"].quantile([0.1, 0.5, 0.9]).unstack()
    u.columns = ["unmet_m2_p10", "unmet_m2_p50", "unmet_m2_p90"]
    unmet = u.reset_index()
    for frame in (quantiles, unmet):
        unit = np.where(frame.get("resource", pd.Series("m2", index=frame.index)) == "grid_power_mw", "mw", "m2")
        frame["unit"] = unit
    return quantiles, prob, unmet


_ADDRESS = re.compile(r"(?P<scheme>[a-z]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})")
_SCHEDULER_FIX = "write the scheduler's address as tls://HOST:PORT (e.g. tls://10.0.0.5:8786)"


@dataclass(frozen=True)
class SchedulerConnection:
    """How to reach a remote Dask scheduler: its address, the TLS settings (a
    ``distributed.Security``) or ``insecure`` for plain TCP, and how long to try."""

    address: str
    security: object | None = None
    insecure: bool = False
    connect_timeout_s: float = 5.0


def scheduler_connection(address: str, *, insecure: bool = False, tls_ca_file: str | Path | None = None,
                         tls_cert: str | Path | None = None, tls_key: str | Path | None = None,
                         connect_timeout_s: float = 5.0) -> SchedulerConnection:
    """Check a scheduler address and its security before anything is sent.

    The enterprise list is confidential, so a remote scheduler is reached over TLS
    (``tls://HOST:PORT``) with a ``distributed.Security`` from the given files or, without them, from
    the Dask configuration (``distributed.comm.tls.*``); plain ``tcp://`` only with ``insecure``.
    Raises :class:`InputError` for a malformed address, a missing TLS configuration or TCP without
    ``insecure``."""
    from distributed import Security

    match = _ADDRESS.fullmatch(address.strip())
    if not match or not 0 < int(match["port"]) < 65536:
        raise InputError(f"scheduler address {address!r} is not SCHEME://HOST:PORT", attribute="--scheduler",
                         fix=_SCHEDULER_FIX)
    scheme = match["scheme"]
    if scheme == "tcp":
        if not insecure:
            raise InputError("a tcp:// scheduler would receive the enterprise list unencrypted",
                             attribute="--scheduler",
                             fix="use tls:// with --tls-ca-file/--tls-cert/--tls-key (or the Dask TLS configuration), "
                                 "or pass --insecure on a network you trust")
        return SchedulerConnection(address.strip(), None, True, connect_timeout_s)
    if scheme != "tls":
        raise InputError(f"scheduler protocol {scheme!r} is not supported", attribute="--scheduler",
                         fix=_SCHEDULER_FIX)
    for label, path in (("--tls-ca-file", tls_ca_file), ("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not Path(path).is_file():
            raise InputError("file not found", file=path, attribute=label, fix="give the PEM file's path")
    if tls_ca_file or tls_cert or tls_key:
        if not (tls_ca_file and tls_cert):
            raise InputError("TLS needs the CA file and the client certificate", attribute="--tls-ca-file",
                             fix="give --tls-ca-file and --tls-cert (and --tls-key unless the key is in the cert)")
        security = Security(tls_ca_file=str(tls_ca_file), tls_client_cert=str(tls_cert),
                            tls_client_key=str(tls_key) if tls_key else None, require_encryption=True)
    else:
        security = Security(require_encryption=True)  # from the Dask configuration
        # Security sets its tls_* attributes from its keywords in __init__: distributed does not declare them
        if not security.tls_ca_file:  # type: ignore[attr-defined]
            raise InputError("no TLS configuration for the scheduler", attribute="--scheduler",
                             fix="pass --tls-ca-file and --tls-cert (and --tls-key), or set "
                                 "distributed.comm.tls.ca-file and distributed.comm.tls.client.cert in the Dask "
                                 "configuration")
    return SchedulerConnection(address.strip(), security, False, connect_timeout_s)


def _connect(connection: SchedulerConnection) -> Client:
    from dask.distributed import Client

    try:
        return Client(connection.address, security=connection.security, timeout=connection.connect_timeout_s)
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputError(f"cannot reach the scheduler within {connection.connect_timeout_s:g} s ({reason})",
                         attribute=connection.address,
                         fix="check the address, that the scheduler runs and that its TLS settings match") from None


#: the local cluster listens on the loopback interface only
LOCAL_HOST = "127.0.0.1"


def local_cluster(workers: int) -> LocalCluster:
    """A LocalCluster of ``workers`` single-threaded processes that only this run can use.

    Every connection is TLS with a certificate made afresh for this run and held only in memory
    (``distributed.Security.temporary()``): scheduler, workers and client must present it, so
    another local user who finds the port can neither connect nor read what the workers hold.
    Scheduler and workers listen on 127.0.0.1 only. The dashboard is off; the scheduler's small
    HTTP server (which Dask starts even without a dashboard) serves no routes and takes a free
    loopback port instead of 8787, so a busy 8787 makes no warning and leaks no socket."""
    import dask
    from dask.distributed import LocalCluster, Security

    security = Security.temporary()
    no_http: dict[str, list[str]] = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    with dask.config.set(no_http):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, protocol="tls://",
                            host=LOCAL_HOST, security=security, dashboard_address=None,
                            scheduler_kwargs={"dashboard": False, "dashboard_address": f"{LOCAL_HOST}:0"},
                            silence_logs=logging.CRITICAL)  # errors come back as one line, not a log


@contextmanager
def dask_client(scheduler: SchedulerConnection | None, workers: int) -> Iterator[Client]:
    """A Dask client: the remote scheduler of ``scheduler`` (see :func:`scheduler_connection`), or a
    private LocalCluster (see :func:`local_cluster`); closed (with its cluster) on exit."""
    from dask.distributed import Client

    cluster = None
    if scheduler is not None:
        client = _connect(scheduler)
    else:
        cluster = local_cluster(workers)
        client = Client(cluster, security=cluster.security)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(scenario: Scenario, draws: int, *, scheduler: SchedulerConnection | None = None, workers: int = 2,
              enterprises: Path | None = None, sites: list[Path] | None = None,
              progress: Callable[[int, int], None] | None = None) -> Sweep:
    """Run ``draws`` Monte Carlo draws on Dask: a LocalCluster of ``workers`` processes, or the
    remote scheduler of ``scheduler`` (see :func:`scheduler_connection`; its workers need this
    package)."""
    from dask.distributed import as_completed

    from .enterprises import load_enterprises, load_sector_profiles
    from .limits import check_draws

    check_draws(draws)  # before any input is read or any worker started
    tick = progress or (lambda _done, _total: None)
    started = time.perf_counter()
    base, files = prepare_inputs(scenario, enterprises=enterprises, sites=sites)
    pipeline = load_enterprises(Path(enterprises) if enterprises else scenario.input_files()["enterprises"])
    profiles = load_sector_profiles(scenario.input_files()["sector_profiles"])
    seeds = np.random.SeedSequence(scenario.seed).spawn(draws)
    with dask_client(scheduler, workers) as client:
        address = scheduler.address if scheduler is not None else "LocalCluster"
        n_workers = len(client.scheduler_info()["workers"])
        base_f, pipe_f, prof_f, sc_f = client.scatter([base, pipeline, profiles, scenario], broadcast=True)
        futures = [client.submit(run_draw, base_f, pipe_f, prof_f, sc_f, seeds[k], k, pure=False)
                   for k in range(draws)]
        results = []
        for done, future in enumerate(as_completed(futures), start=1):
            results.append(future.result())
            tick(done, draws)
    results.sort(key=lambda r: r[2]["draw"])
    balances = pd.concat([r[0] for r in results], ignore_index=True)
    demands = pd.concat([r[1] for r in results], ignore_index=True)
    per_draw = pd.DataFrame([r[2] for r in results])
    quantiles, prob, unmet = summarise(balances, demands, scenario.early_warning.shortfall_remaining_share)
    timings = {"wall_s": round(time.perf_counter() - started, 3),
               "solve_s_sum": round(float(per_draw["solve_s"].sum()), 3)}
    return Sweep(scenario, draws, quantiles, prob, unmet, per_draw, files, n_workers, address, timings)
