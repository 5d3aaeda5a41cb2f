"""An indoor-air-quality estimate, 0 (clean) to 500 (bad), from the BME680's
gas resistance and the humidity.

Bosch's own IAQ (the BSEC library) is closed source: this is an *estimate*
after the seeds and the usual open recipe. The metal-oxide plate's
resistance drops when volatile organic compounds are in the air, so we
compare it with a baseline learnt in clean-ish air:

* burn-in: the first BURN_IN_READINGS gas readings (~60 s at the seeds' 5 s
  poll) only warm the plate up; the baseline is the mean of the last
  BASELINE_WINDOW of them. IAQ is 0 and the accuracy CALIBRATING meanwhile.
* then quality = 75 % gas (gas / baseline, capped at 1) + 25 % humidity
  (full marks at 40 %RH, falling linearly to 0 at 0 and 100 %RH), and
  IAQ = (100 - quality) * 5.
* the baseline follows the air upwards: a reading above it pulls it up by
  BASELINE_RISE of the difference (cleaner air than we had seen, or the
  plate drifting). It never follows pollution down.
* accuracy: LOW for the first LOW_READINGS scored readings after the
  burn-in (1 min at a 2 s poll), MEDIUM up to MEDIUM_READINGS (10 min),
  HIGH after that: the more air the baseline has seen, the more it is
  trusted. A gas reading the chip marks invalid is not counted.

`to_json`/`from_json` keep all of it in the plugin's `state`, so a reload or
a restart of the daemon does not start the burn-in again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harvester.exports.bme680_logic import IaqAccuracy

BURN_IN_READINGS = 12
BASELINE_WINDOW = 6
BASELINE_RISE = 0.1
LOW_READINGS = 30
MEDIUM_READINGS = 300

HUMIDITY_IDEAL_PCT = 40.0
HUMIDITY_WEIGHT = 25.0  # points of 100
GAS_WEIGHT = 100.0 - HUMIDITY_WEIGHT
IAQ_PER_POINT = 5.0  # 100 quality points -> IAQ 0..500


def humidity_score(humidity_pct: float) -> float:
    """0..HUMIDITY_WEIGHT: full marks at the ideal humidity."""
    if humidity_pct >= HUMIDITY_IDEAL_PCT:
        fraction = (100.0 - humidity_pct) / (100.0 - HUMIDITY_IDEAL_PCT)
    else:
        fraction = humidity_pct / HUMIDITY_IDEAL_PCT
    return HUMIDITY_WEIGHT * min(1.0, max(0.0, fraction))


def gas_score(gas_ohm: float, baseline_ohm: float) -> float:
    """0..GAS_WEIGHT: full marks at (or above) the baseline."""
    return GAS_WEIGHT * min(1.0, max(0.0, gas_ohm / baseline_ohm))


def iaq_score(gas_ohm: float, humidity_pct: float, baseline_ohm: float) -> float:
    quality = gas_score(gas_ohm, baseline_ohm) + humidity_score(humidity_pct)
    return (100.0 - quality) * IAQ_PER_POINT


@dataclass
class IaqEstimator:
    burn_in: list[float] = field(default_factory=list)  # gas readings so far
    baseline_ohm: float | None = None
    readings_since_burn_in: int = 0  # scored readings, capped past MEDIUM_READINGS

    @property
    def calibrating(self) -> bool:
        return self.baseline_ohm is None

    def accuracy(self) -> IaqAccuracy:
        if self.baseline_ohm is None:
            return IaqAccuracy.CALIBRATING
        if self.readings_since_burn_in <= LOW_READINGS:
            return IaqAccuracy.LOW
        if self.readings_since_burn_in <= MEDIUM_READINGS:
            return IaqAccuracy.MEDIUM
        return IaqAccuracy.HIGH

    def add(self, gas_ohm: float, humidity_pct: float) -> tuple[float, IaqAccuracy]:
        """Takes one valid gas reading; returns the IAQ and its accuracy
        (0 and CALIBRATING for each of the burn-in readings)."""
        if self.baseline_ohm is None:
            self._burn_in_step(gas_ohm)
            return 0.0, IaqAccuracy.CALIBRATING
        # Counting stops once HIGH is reached, so the state stops changing.
        self.readings_since_burn_in = min(MEDIUM_READINGS + 1, self.readings_since_burn_in + 1)
        iaq = iaq_score(gas_ohm, humidity_pct, self.baseline_ohm)
        if gas_ohm > self.baseline_ohm:
            self.baseline_ohm += BASELINE_RISE * (gas_ohm - self.baseline_ohm)
        return iaq, self.accuracy()

    def _burn_in_step(self, gas_ohm: float) -> None:
        self.burn_in.append(gas_ohm)
        if len(self.burn_in) == BURN_IN_READINGS:
            settled = self.burn_in[-BASELINE_WINDOW:]
            self.baseline_ohm = sum(settled) / len(settled)
            self.burn_in = []

    def to_json(self) -> dict[str, Any]:
        return {
            "burn_in": [round(g, 1) for g in self.burn_in],
            "baseline_ohm": None if self.baseline_ohm is None else round(self.baseline_ohm, 1),
            "readings_since_burn_in": self.readings_since_burn_in,
        }

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> IaqEstimator:
        """Raises (KeyError, TypeError, ValueError) on anything malformed."""
        baseline = saved["baseline_ohm"]
        burn_in = [float(g) for g in saved["burn_in"]]
        count = int(saved["readings_since_burn_in"])
        if baseline is not None and not float(baseline) > 0.0:
            raise ValueError(f"baseline {baseline!r}")
        if len(burn_in) >= BURN_IN_READINGS or count < 0:
            raise ValueError("burn-in progress out of range")
        return cls(
            burn_in=burn_in,
            baseline_ohm=None if baseline is None else float(baseline),
            readings_since_burn_in=min(count, MEDIUM_READINGS + 1),
        )

