"""Times i2c round trips from inside the sandbox: Python -> host -> Python."""
import json
import time

from harvester.imports.types import Reading
from harvester.imports import i2c

N = 20000


def _per_call_ns(fn) -> float:
    fn()  # resolve the import once
    t0 = time.perf_counter_ns()
    for _ in range(N):
        fn()
    return (time.perf_counter_ns() - t0) / N


class SensorLogic:
    def poll(self) -> list[Reading]:
        nop = _per_call_ns(lambda: None)
        raw = _per_call_ns(lambda: i2c.transfer_bytes(0x77, b"\xd0\x00\x01", 3))
        hexs = _per_call_ns(lambda: i2c.transfer(0x77, "D00001", 3))
        extra = {"bytes_ns": raw - nop, "hex_ns": hexs - nop, "loop_ns": nop}
        return [Reading(sensor="bench", fields=[], extra=json.dumps(extra))]
