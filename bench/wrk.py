"""Driving wrk from the benches: a plan of requests shared out over wrk's threads, answers counted by a bench's
own Lua `response()`, and wrk's report read back.

Each wrk thread has its own Lua state: setup() numbers the threads, init() builds that thread's share of the plan
and zeroes the bench's counters (the names in COUNTS), request() walks the share round and round (counting laps
in `wrapped`), done() adds the threads' counters up and prints them on one "BENCH name=n ..." line.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

Plan = list[tuple[str, str, dict[str, str], str | None]]  # method, path, headers, body

PLAN_RUNNER = r"""
local threads, next_id = {}, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  local count = tonumber(args[1])
  requests, position, wrapped = {}, 0, 0
  math.randomseed(4242 + id)
  for _, name in ipairs(COUNTS) do _G[name] = 0 end
  for i = 1, #plan do
    if (i - 1) % count == id then
      local item = plan[i]
      requests[#requests + 1] = wrk.format(item[1], item[2], item[3], item[4])
    end
  end
end
function request()
  position = position + 1
  if position > #requests then position, wrapped = 1, wrapped + 1 end
  return requests[position]
end
function done(summary, latency, requests)
  local line = "BENCH"
  for _, name in ipairs(COUNTS) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + tonumber(thread:get(name)) end
    line = line .. string.format(" %s=%d", name, total)
  end
  local laps = 0
  for _, thread in ipairs(threads) do laps = laps + tonumber(thread:get("wrapped")) end
  io.write(line .. string.format(" wrapped=%d\n", laps))
end
"""


def lua_string(value: str) -> str:
    assert value.isascii(), value
    return json.dumps(value)  # ASCII JSON strings are valid Lua strings


def lua_plan(items: Plan) -> str:
    rows = []
    for method, path, headers, body in items:
        header_table = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        rows.append(f"{{{lua_string(method)}, {lua_string(path)}, {{{header_table}}}, "
                    f"{lua_string(body) if body is not None else 'nil'}}}")
    return "plan = {\n" + ",\n".join(rows) + "\n}\n"


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    percentiles: dict[str, float]  # "50%" .. "99%" in ms
    counts: dict[str, int]
    requests: int

    @property
    def failed(self) -> int:
        """Answers the bench's `response()` counted as failed, and wrk's socket errors (timeouts included)."""
        return self.counts["failed"] + self.counts.get("socket_errors", 0)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse(output: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    percentiles = {share: float(value) * UNITS[unit] for share, value, unit in
                   re.findall(r"^\s+(\d+%)\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)}
    counts = {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", re.search(r"^BENCH .*$", output,
                                                                                       re.MULTILINE).group(0))}
    if "Socket errors" in output:
        counts["socket_errors"] = sum(int(n) for n in re.findall(
            r"(?:connect|read|write|timeout) (\d+)", re.search(r"Socket errors:.*$", output, re.MULTILINE).group(0)))
    return Run(rps, percentiles, counts, total)


def run(base: str, plan: Plan, script: Path, *, counts: list[str], response_lua: str, threads: int,
        connections: int, duration: str, extra_lua: str = "") -> Run:
    """wrk against `base` with `plan`; `response_lua` defines response(status, headers, body), which adds 1 to
    one of `counts` (a "failed" among them) for each answer."""
    counters = "COUNTS = {" + ", ".join(lua_string(name) for name in counts) + "}\n"
    script.write_text(lua_plan(plan) + counters + PLAN_RUNNER + response_lua + extra_lua)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--timeout", "30s", "--latency",
               "-s", str(script), base, "--", str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse(result.stdout)
