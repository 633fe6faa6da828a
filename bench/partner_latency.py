"""What running a partner plugin out of process adds to an event, against the same plugin in process.

    python bench/partner_latency.py [--events 500]

One brand with the built-in `points` plugin and the partner plugin `wecom_group_bonus` enabled; each event is a
`member.engaged` group join, evaluated by the real engine (no store: this isolates the plugin call, which is all
the sandbox changes). Three ways, interleaved event by event in the same run so the machine's load hits them alike:

- `in process`: the plugin's module registered in the engine's process, as before partner plugins were sandboxed;
- `protocol only`: the sandbox protocol (serialise the context, deserialise the effects) without a process boundary;
- `subprocess`: the local sandbox (rules/sandbox.py), warm: one pipe round trip to a running subprocess.

In AWS the boundary is a synchronous Lambda invoke of a warm function instead of a pipe: add the Invoke round trip
(typically 10-20 ms within a region) to the `protocol only` figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()

    import wecom_group_bonus

    from plugins.points import plugin as points
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.engine import Engine
    from rules.events import hooks
    from rules.events import parse
    from rules.plugin_manager import PluginRegistry
    from rules.sandbox import SubprocessRunner, remote_plugin
    from rules.sandbox_host import InProcessRunner
    from rules.testing import DEFAULT_TIME, member

    def registry(partner) -> PluginRegistry:
        plugins = PluginRegistry()
        plugins.register(points)
        plugins.register(partner)
        return plugins

    subprocess_runner = SubprocessRunner()
    ways = {
        "in process": registry(wecom_group_bonus),
        "protocol only": registry(remote_plugin(InProcessRunner({"wecom_group_bonus": wecom_group_bonus}),
                                                "wecom_group_bonus", "wecom_group_bonus")),
        "subprocess": registry(remote_plugin(subprocess_runner, "wecom_group_bonus", "wecom_group_bonus")),
    }
    some = next(iter(ways.values()))
    brand = replace(BrandConfig("bench", "bench", BAIGUOYUAN_LADDER),
                    plugins={name: some.validate_params(name, {}) for name in ("points", "wecom_group_bonus")})
    state = member(brand_id="bench")
    engines = {name: Engine(store=None, plugins=plugins) for name, plugins in ways.items()}
    timings: dict[str, list[float]] = {name: [] for name in ways}

    def one(name: str, index: int) -> float:
        raw = {"id": f"bench-{index}", "source": "siyu.brand.bench", "detail-type": "member.engaged",
               "time": DEFAULT_TIME.isoformat(),
               "detail": {"brandId": "bench", "memberId": state.profile.member_id, "action": "group_join",
                          "refId": "g-1"}}
        event = parse(raw).event
        started = time.perf_counter()
        evaluation = engines[name].evaluate(event.event_id, event.time, brand, state, hooks()["member.engaged"],
                                            {"event": event})
        elapsed = time.perf_counter() - started
        assert sum(d.effect.points for d in evaluation.decisions if d.effect.kind == "AwardPoints") == 10
        return elapsed

    for index in range(50):  # warm: imports, the subprocess started, caches filled
        for name in ways:
            one(name, index)
    for index in range(args.events):
        for name in ways:
            timings[name].append(one(name, index))
    subprocess_runner.close()

    base = statistics.median(timings["in process"])
    print(f"{args.events} member.engaged events, points + wecom_group_bonus, warm; per event:")
    print(f"{'':16}{'median':>10}{'p95':>10}{'added (median)':>17}")
    for name, samples in timings.items():
        samples.sort()
        median, p95 = statistics.median(samples), samples[int(len(samples) * 0.95)]
        print(f"{name:16}{median * 1000:>8.2f}ms{p95 * 1000:>8.2f}ms{(median - base) * 1000:>15.2f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
